#!/usr/bin/env bash
# Builds the docker buildx CLI plugin at the version go.mod pins (Debian bookworm packages no
# docker-buildx: `apt-cache policy docker-buildx` finds nothing) from the Go module proxy, once:
# the binary is cached as $CDK8S_ML_E2E_CACHE/buildx-<version>/docker-buildx (default cache
# /var/tmp/cdk8s-ml-e2e) and its path printed on stdout. A test installs it as a CLI plugin
# through a DOCKER_CONFIG of its own (<config>/cli-plugins/docker-buildx), nothing system-wide.
# go.sum is committed: -mod=readonly fails rather than resolving anything new.
# v0.11.2 (July 2023) is contemporary with the Docker 24 CLI; its docker driver drives the daemon's
# own BuildKit, which Debian's dockerd 20.10 has (seen: bake builds into the daemon's image store).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${CDK8S_ML_E2E_CACHE:-/var/tmp/cdk8s-ml-e2e}"
log() { printf '[buildx] %s\n' "$*" >&2; }
die() { printf '[buildx] ERROR: %s\n' "$*" >&2; exit 1; }

version=$(awk '$1 == "require" && $2 == "github.com/docker/buildx" { print $3 }' "$HERE/go.mod")
[[ -n "$version" ]] || die "no github.com/docker/buildx version in $HERE/go.mod"
out="$CACHE/buildx-$version/docker-buildx"
if [[ -x "$out" ]]; then echo "$out"; exit 0; fi

GO="$(command -v go || echo /usr/local/go/bin/go)"
[[ -x "$GO" ]] || die "go not found (Go >= 1.20 builds buildx from the Go module proxy; install Go first)"
mkdir -p "$(dirname "$out")"
tmp="$(mktemp "$out.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
start=$(date +%s)
log "building github.com/docker/buildx $version with $("$GO" version) (a few minutes, once)"
(cd "$HERE" && GOFLAGS=-mod=readonly GOTOOLCHAIN=local CGO_ENABLED=0 "$GO" build -trimpath \
  -ldflags "-s -w -X github.com/docker/buildx/version.Version=$version" \
  -o "$tmp" github.com/docker/buildx/cmd/buildx) >&2 || die "go build github.com/docker/buildx $version failed"
mv -f "$tmp" "$out" # atomic: a concurrent build or reader sees a whole binary or none
log "built $out in $(( $(date +%s) - start ))s"
echo "$out"
