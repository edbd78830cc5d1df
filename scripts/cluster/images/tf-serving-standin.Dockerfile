# Stand-in for tensorflow/serving:<VERSION> on the test node: the python base plus tf-serving-standin.py as the
# ENTRYPOINT (the real entrypoint also takes the manifest's args). No USER, like the real image (root); the
# manifests run it as uid 1000 on a read-only root, which the script supports.
ARG BASE=localhost/cdk8s-ml/python:bookworm
FROM ${BASE}
ARG VERSION
ENV TF_SERVING_STANDIN_VERSION=${VERSION} \
    MODEL_BASE_PATH=/models \
    MODEL_NAME=model \
    PYTHONDONTWRITEBYTECODE=1
COPY tf-serving-standin.py /usr/local/bin/tf-serving-standin.py
RUN mkdir -p /models
EXPOSE 8500 8501
ENTRYPOINT ["python3", "/usr/local/bin/tf-serving-standin.py"]
