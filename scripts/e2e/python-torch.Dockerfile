# Base for the distributed-training e2e test: the python base plus Debian's PyTorch (1.13.1, CPU
# only, gloo backend; torchrun included). There is no PyPI here, so a train.py needing `torch`
# runs on this base with its requirements already satisfied.
ARG BASE=localhost/cdk8s-ml/python:bookworm
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-torch \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
