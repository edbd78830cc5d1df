#!/usr/bin/env bash
# Makes the Python venv that parses TF Serving config files with TF Serving's compiled protos
# (parse.py), once: $CDK8S_ML_TFSERVING_CACHE/venv-<key> (default cache /var/tmp/cdk8s-ml-tfserving),
# keyed by requirements.txt, descriptors.txt and the Python version, so changing a pin makes a new
# venv and an unchanged one is reused. Prints the venv's python on stdout; logs go to stderr.
# Needs python3 (>= 3.9, with the venv module; PYTHON=... picks another) and PyPI. Pins are hashed:
# pip installs exactly those files, without dependencies, wheels only (no build step).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${CDK8S_ML_TFSERVING_CACHE:-/var/tmp/cdk8s-ml-tfserving}"
PYTHON="${PYTHON:-python3}"
log() { printf '[tfserving] %s\n' "$*" >&2; }
die() { printf '[tfserving] ERROR: %s\n' "$*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || die "$PYTHON not found (install python3 and python3-venv)"
pyver="$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3]); sys.exit(sys.version_info < (3, 9))')" ||
  die "$PYTHON is older than 3.9"
key="$( (cat "$HERE/requirements.txt" "$HERE/descriptors.txt"; echo "python $pyver") | sha256sum | cut -c1-16)"
venv="$CACHE/venv-$key"
if [[ -f "$venv/.complete" ]]; then echo "$venv/bin/python"; exit 0; fi

mkdir -p "$CACHE"
tmp="$(mktemp -d "$CACHE/.venv-$key.XXXXXX")"
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
log "making $venv with Python $pyver (once)"
"$PYTHON" -m venv "$tmp" >&2 || die "$PYTHON -m venv failed (Debian: apt-get install python3-venv)"
pip=("$tmp/bin/python" -m pip --disable-pip-version-check --no-input --no-cache-dir)
"${pip[@]}" install --quiet --no-deps --require-hashes --only-binary :all: -r "$HERE/requirements.txt" >&2 ||
  die "pip install -r $HERE/requirements.txt failed"
"${pip[@]}" download --quiet --no-deps --require-hashes --only-binary :all: -d "$tmp/descriptors" -r "$HERE/descriptors.txt" >&2 ||
  die "pip download -r $HERE/descriptors.txt failed"
touch "$tmp/.complete"
# A venv's python finds its prefix from pyvenv.cfg beside it, so the directory can be renamed;
# rename is atomic: a concurrent setup that finished first wins and this copy is dropped.
if mv -T "$tmp" "$venv" 2>/dev/null; then
  trap - EXIT
  log "made $venv in $(( $(date +%s) - start ))s"
else
  [[ -f "$venv/.complete" ]] || die "could not move the venv to $venv"
fi
echo "$venv/bin/python"
