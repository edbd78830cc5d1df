# Stand-in for the canary stack's prebuilt registry.example.com/scorer:<VERSION>: HTTP on 8080 (/healthz,
# /predict), each answer stating VERSION.
ARG BASE=localhost/cdk8s-ml/python:bookworm
FROM ${BASE}
ARG VERSION
ENV SCORER_VERSION=${VERSION} \
    PYTHONDONTWRITEBYTECODE=1
COPY scorer-standin.py /usr/local/bin/scorer-standin.py
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["python3", "/usr/local/bin/scorer-standin.py"]
