"""AND-gate web app: a form with two inputs that asks the TF Serving backend for a prediction.

The backend is never hard-coded: cdk8s-ml injects BACKEND_PREDICT_URL (and BACKEND_URL,
BACKEND_MODEL_NAME) from the TfServingBackend it is wired to, in the cluster and in compose alike.
Served by gunicorn; Flask's development server is never used.
"""
import os

import requests
from flask import Flask, render_template, request

app = Flask(__name__)
app.config.from_prefixed_env()  # FLASK_SECRET_KEY (from a Secret) -> SECRET_KEY, if set

PREDICT_URL = os.environ["BACKEND_PREDICT_URL"]
MODEL_NAME = os.environ.get("BACKEND_MODEL_NAME", "model")
TIMEOUT_SECONDS = float(os.environ.get("BACKEND_TIMEOUT_SECONDS", "5"))


@app.get("/healthz")
def healthz():
    # Answers without calling the backend: a slow model must not take the web pods out of rotation.
    return {"status": "ok"}


def parse_bit(value):
    if value not in ("0", "1"):
        raise ValueError(f"inputs must be 0 or 1, got {value!r}")
    return int(value)


@app.route("/", methods=["GET", "POST"])
def index():
    result = error = None
    a = request.form.get("a", "")
    b = request.form.get("b", "")
    if request.method == "POST":
        try:
            instances = [[parse_bit(a), parse_bit(b)]]
            answer = requests.post(PREDICT_URL, json={"instances": instances}, timeout=TIMEOUT_SECONDS)
            answer.raise_for_status()
            result = answer.json()["predictions"]
        except ValueError as e:
            error = str(e)
        except (requests.RequestException, KeyError) as e:
            app.logger.warning("backend call failed: %s", e)
            error = "The model server did not answer; try again."
    return render_template("index.html", a=a, b=b, result=result, error=error, model=MODEL_NAME)
