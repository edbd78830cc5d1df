# registry.k8s.io/pause:3.10 for the test node: the static pause program (pause/main.go, built with
# CGO_ENABLED=0 into the build context), nothing else. Runs as 65535 like the upstream image.
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
