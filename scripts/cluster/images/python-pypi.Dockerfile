# The test node's stand-in for the official python:3.x-slim image the generated Dockerfiles name (PYTHON_IMAGE):
# Debian bookworm's python3 (3.11) and pip from Debian's mirror, `python`/`pip` on PATH, no application package
# (a generated `pip install -r requirements.txt` downloads flask, numpy... from PyPI, as users' builds do) and,
# like the official image, no PEP 668 EXTERNALLY-MANAGED marker (pip installs into /usr/local as root).
# The build context (made by test/cluster/node/_images.ts) holds this file and this machine's CA bundle, which
# replaces Debian's: this machine reaches PyPI over TLS through its own CA; Debian's pip reads the system bundle.
ARG BASE=localhost/cdk8s-ml/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-pip ca-certificates netbase tzdata \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \
 && ln -s /usr/bin/python3 /usr/local/bin/python
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
