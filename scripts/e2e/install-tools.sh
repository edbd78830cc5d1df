#!/usr/bin/env bash
# Installs what the e2e image harness needs on a fresh Debian bookworm machine (no Docker engine):
#   buildah (builds the generated Dockerfiles), podman + runc (runs the images; crun fails on
#   cgroup v1 hosts like CI), debootstrap (builds the base image without any registry),
#   and what rootful podman 4.3 needs on bookworm for port publishing (-p 127.0.0.1:H:C):
#   the CNI plugins (bridge/portmap/host-local/firewall), iptables (portmap/masquerade rules),
#   conmon, slirp4netns, uidmap; and the two compose tools the generated compose files are run with
#   here: podman-compose 1.0.3 (brings up stacks on podman) and docker-compose 1.29 (`config` judges
#   which keys a compose tool ignores; it needs no engine for that); and Debian's Docker engine
#   (docker.io: dockerd 20.10 with BuildKit, containerd, runc, and its docker CLI at /usr/bin/docker),
#   which test/e2e/_docker.ts starts on a temporary socket for `docker build` and `docker buildx bake`
#   (the buildx plugin is not packaged in bookworm: scripts/e2e/buildx/build.sh builds it).
# Idempotent: only apt-get installs when a binary is missing (apt-get update runs at most once).
# Exits non-zero with a reason when it cannot (not root, apt failing).
set -euo pipefail

log() { printf '[install-tools] %s\n' "$*" >&2; }
die() { printf '[install-tools] ERROR: %s\n' "$*" >&2; exit 1; }

# command -> Debian package providing it
declare -A NEED=(
  [buildah]=buildah
  [podman]=podman
  [debootstrap]=debootstrap
  [runc]=runc
  [conmon]=conmon
  [slirp4netns]=slirp4netns
  [iptables]=iptables
  [newuidmap]=uidmap
  [podman-compose]=podman-compose
  [docker-compose]=docker-compose
  [dockerd]=docker.io
  [containerd]=containerd
)
# files -> package (not on PATH)
declare -A NEED_FILES=(
  [/usr/lib/cni/bridge]=containernetworking-plugins
  [/usr/lib/cni/portmap]=containernetworking-plugins
  # podman-compose's services find each other by name through CNI's dnsname plugin (dnsmasq).
  [/usr/lib/cni/dnsname]=golang-github-containernetworking-plugin-dnsname
  [/usr/share/keyrings/debian-archive-keyring.gpg]=debian-archive-keyring
  [/etc/ssl/certs/ca-certificates.crt]=ca-certificates
  # docker.io's own CLI (a docker CLI elsewhere on PATH may be newer than the daemon's API 1.41)
  [/usr/bin/docker]=docker.io
)

missing=()
for cmd in "${!NEED[@]}"; do
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1; then missing+=("${NEED[$cmd]}"); fi
done
for f in "${!NEED_FILES[@]}"; do
  [[ -e "$f" ]] || missing+=("${NEED_FILES[$f]}")
done

if ((${#missing[@]} == 0)); then
  log "all tools present: $(buildah --version | head -1); $(podman --version); $(runc --version | head -1)"
  exit 0
fi

# de-duplicate
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
log "missing packages: ${missing[*]}"

[[ "$(id -u)" == 0 ]] || die "must run as root to apt-get install ${missing[*]} (current uid $(id -u))"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script supports Debian/Ubuntu only"

export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)
apt-get update -qq || die "apt-get update failed (is the Debian mirror reachable?)"
# No package may start a daemon (docker.io's and containerd's postinst would start them through
# invoke-rc.d): the tests start what they need on their own sockets and stop it. policy-rc.d exit 101
# is Debian's "action forbidden" (invoke-rc.d(8)); an existing policy is left as it was.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && own_policy=true
fi
status=0
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || status=$?
if [[ "$own_policy" == true ]]; then rm -f "$policy"; fi
[[ "$status" == 0 ]] || die "apt-get install ${missing[*]} failed"
log "installed ${missing[*]} in $(( $(date +%s) - start ))s"

for cmd in "${!NEED[@]}"; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after install"
done
log "ok: $(buildah --version | head -1); $(podman --version)"
