// The pod sandbox ("pause") process of the local node: it holds the pod's namespaces open, reaps the
// zombies of the pod's other processes (it is PID 1 when the pod shares its process namespace) and exits 0
// on SIGINT or SIGTERM, which is what the kubelet and containerd expect of the sandbox image they start
// first in every pod (kubernetes/build/pause does the same in C). No image can be pulled on these
// machines, so scripts/cluster/node.mjs builds this and imports it as registry.k8s.io/pause:3.10.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if os.Getpid() != 1 {
		os.Stderr.WriteString("pause: warning: not running as PID 1\n")
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s == syscall.SIGCHLD {
			for {
				var ws syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
			continue
		}
		os.Exit(0)
	}
}
