# A local base for images whose requirements.txt names pillow and numpy (image-classifier's web): the python
# base plus Debian's python3-pil and python3-numpy (no index is needed at build time).
ARG BASE=localhost/cdk8s-ml/python:bookworm
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pil python3-numpy \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
