#!/usr/bin/env bash
# Builds today's Docker Compose (github.com/docker/compose/v5, the docker-compose binary; Debian
# bookworm packages only docker-compose 1.29) at the version go.mod pins, from the Go module proxy,
# once: the binary is cached as $CDK8S_ML_E2E_CACHE/compose-<version>/docker-compose (default cache
# /var/tmp/cdk8s-ml-e2e) and its path printed on stdout. Called by that name it runs standalone
# (`docker-compose version`); a test points it at podman's Docker-compatible API through DOCKER_HOST.
# go.sum is committed: -mod=readonly fails rather than resolving anything new.
# v5.6.0 is the newest v5 whose go.mod this machine's Go (1.26.8) satisfies: v5.7.x asks for go 1.26.11.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${CDK8S_ML_E2E_CACHE:-/var/tmp/cdk8s-ml-e2e}"
MODULE=github.com/docker/compose/v5
log() { printf '[compose] %s\n' "$*" >&2; }
die() { printf '[compose] ERROR: %s\n' "$*" >&2; exit 1; }

version=$(awk -v m="$MODULE" '$1 == "require" && $2 == m { print $3 }' "$HERE/go.mod")
[[ -n "$version" ]] || die "no $MODULE version in $HERE/go.mod"
out="$CACHE/compose-$version/docker-compose"
if [[ -x "$out" ]]; then echo "$out"; exit 0; fi

GO="$(command -v go || echo /usr/local/go/bin/go)"
[[ -x "$GO" ]] || die "go not found (Go >= 1.26.8 builds $MODULE $version from the Go module proxy; install Go first)"
mkdir -p "$(dirname "$out")"
tmp="$(mktemp "$out.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
start=$(date +%s)
log "building $MODULE $version with $("$GO" version) (a few minutes, once)"
# The version stamp is the one compose's own Makefile sets (GO_LDFLAGS: -X .../internal.Version).
(cd "$HERE" && GOFLAGS=-mod=readonly GOTOOLCHAIN=local CGO_ENABLED=0 "$GO" build -trimpath \
  -ldflags "-s -w -X $MODULE/internal.Version=$version" \
  -o "$tmp" "$MODULE/cmd") >&2 || die "go build $MODULE $version failed"
mv -f "$tmp" "$out" # atomic: a concurrent build or reader sees a whole binary or none
log "built $out in $(( $(date +%s) - start ))s"
echo "$out"
