# The test node's network probe (client and target): netprobe.py on the python base, as a non-root user.
ARG BASE=localhost/cdk8s-ml/python:bookworm
FROM ${BASE}
ENV PYTHONDONTWRITEBYTECODE=1
COPY netprobe.py /usr/local/bin/netprobe
RUN chmod 0755 /usr/local/bin/netprobe
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/netprobe"]
CMD ["sleep"]
