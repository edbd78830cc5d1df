"""The smallest model server: a Flask app with a fixed linear model, /healthz and /predict."""
import os

from flask import Flask, jsonify, request

app = Flask(__name__)

# Two settings from the environment, as in the classic Pod (containerPort 8080, two env vars).
WEIGHTS = [float(w) for w in os.environ.get("MODEL_WEIGHTS", "0.5,-0.25").split(",")]
BIAS = float(os.environ.get("MODEL_BIAS", "0.1"))


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/predict")
def predict():
    body = request.get_json(force=True, silent=True) or {}
    instances = body.get("instances")
    if not isinstance(instances, list) or not all(isinstance(x, list) and len(x) == len(WEIGHTS) for x in instances):
        return jsonify(error=f"expected {{\"instances\": [[{len(WEIGHTS)} numbers], ...]}}"), 400
    predictions = [sum(w * float(v) for w, v in zip(WEIGHTS, x)) + BIAS for x in instances]
    return jsonify(predictions=predictions)
