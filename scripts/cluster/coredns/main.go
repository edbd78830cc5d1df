// Cluster DNS for the local node: CoreDNS's own server (coremain) with only the plugins a one-node test
// cluster needs. CoreDNS documents this way of choosing plugins at compile time: the directive list
// (core/dnsserver.Directives, normally generated from plugin.cfg) names the plugins, in the order they run.
// There is no `forward`: this machine may send no traffic to another host, so names outside the cluster
// domain get SERVFAIL instead of going to an upstream resolver.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

// The same relative order as upstream's plugin.cfg.
var directives = []string{"bind", "ready", "health", "errors", "log", "loadbalance", "cache", "kubernetes"}

func init() {
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}
