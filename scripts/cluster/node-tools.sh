#!/usr/bin/env bash
# Installs the host tools the local node needs, from Debian's packages, when one is missing:
# runc (containerd's runtime), iptables + ipset + conntrack (kube-proxy, kube-router, the CNI plugins),
# the CNI plugins (bridge, host-local, portmap, loopback), openssl (certificates), iproute2 (the bridge).
# Idempotent; apt-get update runs at most once. Exits non-zero with the reason when it cannot.
set -euo pipefail
declare -A NEED=(
  [/usr/sbin/runc]=runc
  [/usr/sbin/iptables]=iptables
  [/usr/sbin/ipset]=ipset
  [/usr/sbin/conntrack]=conntrack
  [/usr/lib/cni/bridge]=containernetworking-plugins
  [/usr/lib/cni/host-local]=containernetworking-plugins
  [/usr/lib/cni/loopback]=containernetworking-plugins
  [/usr/lib/cni/portmap]=containernetworking-plugins
  [/usr/bin/openssl]=openssl
  [/usr/sbin/ip]=iproute2
)
missing=()
for f in "${!NEED[@]}"; do [[ -e "$f" ]] || missing+=("${NEED[$f]}"); done
((${#missing[@]} == 0)) && exit 0
[[ $(id -u) == 0 ]] || { echo "[node-tools] ERROR: root needed to install ${missing[*]}" >&2; exit 1; }
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "[node-tools] installing ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${pkgs[@]}" >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends "${pkgs[@]}" >&2; }
