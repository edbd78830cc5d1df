#!/usr/bin/env bash
# Builds the local base images the e2e tests use instead of registry images (no registry here):
#   localhost/cdk8s-ml/debian:bookworm          debootstrap --variant=minbase bookworm
#   localhost/cdk8s-ml/python:bookworm          + python3, pip, flask, requests, gunicorn
#   localhost/cdk8s-ml/python-sklearn:bookworm  + scikit-learn, pandas, joblib
#   localhost/cdk8s-ml/python-torch:bookworm    python + Debian's torch 1.13 (CPU, gloo, torchrun)
# Usage: base-images.sh [debian|python|python-sklearn|python-torch]...   (default: debian python python-sklearn; dependencies implied)
# Idempotent: an image already in the vfs storage is skipped; the debootstrap rootfs tarball is
# cached under $CDK8S_ML_E2E_CACHE (default /var/tmp/cdk8s-ml-e2e). Set FORCE=1 to rebuild.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${CDK8S_ML_E2E_CACHE:-/var/tmp/cdk8s-ml-e2e}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
DEBIAN_IMAGE=localhost/cdk8s-ml/debian:bookworm
PYTHON_IMAGE=localhost/cdk8s-ml/python:bookworm
SKLEARN_IMAGE=localhost/cdk8s-ml/python-sklearn:bookworm
TORCH_IMAGE=localhost/cdk8s-ml/python-torch:bookworm
BUILDAH=(buildah --storage-driver vfs)
FORCE="${FORCE:-0}"

log() { printf '[base-images] %s\n' "$*" >&2; }
die() { printf '[base-images] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

[[ "$(id -u)" == 0 ]] || die "must run as root (debootstrap and rootful vfs storage)"
for c in buildah debootstrap; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$c" >/dev/null 2>&1 || die "$c missing: run scripts/e2e/install-tools.sh first"
done
export PATH="$PATH:/usr/sbin:/sbin"

have() { [[ "$FORCE" != 1 ]] && "${BUILDAH[@]}" inspect --type image "$1" >/dev/null 2>&1; }

build_debian() {
  if have "$DEBIAN_IMAGE"; then log "$DEBIAN_IMAGE exists, skipped"; return; fi
  mkdir -p "$CACHE"
  local tarball="$CACHE/debian-$SUITE-minbase.tar.gz"
  if [[ ! -s "$tarball" || "$FORCE" == 1 ]]; then
    local t0 rootfs; t0=$(now)
    rootfs="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
    log "debootstrap --variant=minbase $SUITE from $MIRROR ..."
    if ! debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
      tail -n 30 "$CACHE/debootstrap.log" >&2
      rm -rf "$rootfs"
      die "debootstrap failed (log: $CACHE/debootstrap.log)"
    fi
    # apt inside the image should use the same mirror; drop caches to keep the layer small.
    echo "deb $MIRROR $SUITE main" >"$rootfs/etc/apt/sources.list"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    log "debootstrap took $(took "$t0")"
    t0=$(now)
    tar -C "$rootfs" --numeric-owner -czf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
    log "rootfs tarball $tarball ($(du -h "$tarball" | cut -f1)) took $(took "$t0")"
  else
    log "reusing cached rootfs $tarball"
  fi
  local t0 ctr; t0=$(now)
  ctr="$("${BUILDAH[@]}" from scratch)"
  "${BUILDAH[@]}" add "$ctr" "$tarball" / >/dev/null
  "${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd /bin/bash "$ctr"
  "${BUILDAH[@]}" commit -q --rm "$ctr" "$DEBIAN_IMAGE" >/dev/null
  log "$DEBIAN_IMAGE committed in $(took "$t0")"
}

build_from_dockerfile() { # image dockerfile base
  local image="$1" dockerfile="$2" base="$3"
  if have "$image"; then log "$image exists, skipped"; return; fi
  local t0; t0=$(now)
  log "building $image from $(basename "$dockerfile") (BASE=$base) ..."
  mkdir -p "$CACHE"
  local buildlog; buildlog="$CACHE/$(basename "$dockerfile" .Dockerfile).build.log"
  if ! "${BUILDAH[@]}" bud --isolation chroot --layers=false \
      --build-arg "BASE=$base" -f "$dockerfile" -t "$image" "$HERE" >"$buildlog" 2>&1; then
    tail -n 30 "$buildlog" >&2
    die "buildah bud of $image failed (log: $buildlog)"
  fi
  log "$image built in $(took "$t0")"
}

declare -A DONE=()
ensure() { # name: builds it after what it derives from, once per run
  [[ -n "${DONE[$1]:-}" ]] && return
  case "$1" in
    debian) build_debian ;;
    python) ensure debian; build_from_dockerfile "$PYTHON_IMAGE" "$HERE/python.Dockerfile" "$DEBIAN_IMAGE" ;;
    python-sklearn) ensure python; build_from_dockerfile "$SKLEARN_IMAGE" "$HERE/python-sklearn.Dockerfile" "$PYTHON_IMAGE" ;;
    python-torch) ensure python; build_from_dockerfile "$TORCH_IMAGE" "$HERE/python-torch.Dockerfile" "$PYTHON_IMAGE" ;;
    *) die "unknown image '$1' (expected debian, python, python-sklearn or python-torch)" ;;
  esac
  DONE[$1]=1
}

want=("$@"); ((${#want[@]})) || want=(debian python python-sklearn)
total=$(now)
for w in "${want[@]}"; do ensure "$w"; done
log "done (${want[*]}) in $(took "$total")"
