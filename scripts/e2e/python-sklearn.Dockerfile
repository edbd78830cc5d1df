# Base for training / model-serving images: the python base plus scikit-learn, pandas, joblib.
ARG BASE=localhost/cdk8s-ml/python:bookworm
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3-sklearn python3-pandas python3-joblib \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
