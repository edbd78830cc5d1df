"""Image classifier web API: accepts an image upload, asks TF Serving, returns the top classes.

CLASSIFIER_PREDICT_URL and CLASSIFIER_MODEL_NAME come from the TfServingBackend it is wired to.
"""
import io
import os

import numpy as np
import requests
from flask import Flask, jsonify, request
from PIL import Image

app = Flask(__name__)
PREDICT_URL = os.environ["CLASSIFIER_PREDICT_URL"]
SIZE = int(os.environ.get("IMAGE_SIZE", "224"))
TOP_K = int(os.environ.get("TOP_K", "5"))


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/classify")
def classify():
    upload = request.files.get("image")
    if upload is None:
        return jsonify(error="POST a multipart form with an 'image' file"), 400
    try:
        img = Image.open(io.BytesIO(upload.read())).convert("RGB").resize((SIZE, SIZE))
    except OSError:
        return jsonify(error="not an image"), 400
    pixels = (np.asarray(img, dtype=np.float32) / 255.0).tolist()
    answer = requests.post(PREDICT_URL, json={"instances": [pixels]}, timeout=10)
    answer.raise_for_status()
    scores = answer.json()["predictions"][0]
    top = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)[:TOP_K]
    return jsonify(classes=[{"class": i, "score": scores[i]} for i in top])
