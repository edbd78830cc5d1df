"""Web app in front of the model server.

cdk8s-ml injects BACKEND_PREDICT_URL (and BACKEND_URL, BACKEND_MODEL_NAME) from the TfServingBackend
it is wired to, in the cluster and in compose alike: no host name is written here. Served by gunicorn.
"""
import os

import requests
from flask import Flask, request

app = Flask(__name__)

PREDICT_URL = os.environ["BACKEND_PREDICT_URL"]


@app.get("/healthz")
def healthz():
    # Answers without calling the backend: a slow model must not take the web pods out of rotation.
    return {"status": "ok"}


@app.post("/predict")
def predict():
    """Body {"instances": [[...], ...]} -> the model server's {"predictions": [...]}."""
    body = request.get_json(force=True, silent=True) or {}
    if not isinstance(body.get("instances"), list):
        return {"error": 'send JSON {"instances": [[...]]}'}, 400
    try:
        answer = requests.post(PREDICT_URL, json={"instances": body["instances"]}, timeout=5)
        answer.raise_for_status()
    except requests.RequestException as e:
        app.logger.warning("model server call failed: %s", e)
        return {"error": "the model server did not answer"}, 502
    return answer.json()
