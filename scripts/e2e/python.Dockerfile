# Stand-in for python:3.12-slim-bookworm, built without any registry from the debootstrap base.
# Debian's python3 (3.11) plus the packages the reference apps' requirements.txt name, so that a
# generated `pip install -r requirements.txt` (flask, requests, gunicorn) is already satisfied.
ARG BASE=localhost/cdk8s-ml/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-pip python3-flask python3-requests gunicorn \
 && ln -sf /usr/bin/python3 /usr/bin/python \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
# Debian marks its python as externally managed (PEP 668); let pip see/skip system packages.
ENV PIP_BREAK_SYSTEM_PACKAGES=1
