"""Canary demo web app: asks the image classifier (TF Serving) and the scorer for answers.

cdk8s-ml injects CLASSIFIER_PREDICT_URL and SCORER_PREDICT_URL from the servers it is wired to. Each
URL is the server's one Service, which leads to both tracks (stable and canary); the NetworkPolicies
admit these pods to both. Served by gunicorn.
"""
import os

import requests
from flask import Flask, jsonify, request

app = Flask(__name__)

CLASSIFIER_URL = os.environ["CLASSIFIER_PREDICT_URL"]
SCORER_URL = os.environ["SCORER_PREDICT_URL"]
TIMEOUT_SECONDS = float(os.environ.get("BACKEND_TIMEOUT_SECONDS", "5"))


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/predict")
def predict():
    body = request.get_json(force=True)
    out = {}
    for name, url, payload in (("classifier", CLASSIFIER_URL, {"instances": body.get("instances", [])}), ("scorer", SCORER_URL, body)):
        try:
            answer = requests.post(url, json=payload, timeout=TIMEOUT_SECONDS)
            answer.raise_for_status()
            out[name] = answer.json()
        except requests.RequestException as e:
            app.logger.warning("%s call failed: %s", name, e)
            out[name] = {"error": "the model server did not answer"}
    return jsonify(out)
