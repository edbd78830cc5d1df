// The pod sandbox's pause process (registry.k8s.io/pause:3.10 for the test node, built here since no
// registry is reachable): it holds the pod's namespaces, reaps the zombies of a shared PID namespace
// and exits 0 on SIGTERM or SIGINT. Static (CGO_ENABLED=0), so it runs in a FROM scratch image.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println("pause (cdk8s-ml test node) 3.10")
		return
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			fmt.Fprintf(os.Stderr, "pause: %v, exiting\n", sig)
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every exited child (as PID 1 of a shared PID namespace, orphans are re-parented here).
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
