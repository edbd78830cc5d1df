"""Online predictions over REST (run by gunicorn: `gunicorn api:app`).
GET /healthz: the process is up (liveness). GET /readyz: the models are loaded (readiness).
POST /predict {"instances": [[fp1, ..., o2], ...]} -> {"predictions": {"lda": [...], "nn": [...]}}.
Models are read from MODEL_DIR and reloaded when a new training run replaces metadata.json."""
import threading

import joblib
from flask import Flask, jsonify, request

from eeg import METADATA, MODEL_FILES, model_dir, read_metadata

app = Flask(__name__)
_lock = threading.Lock()
_loaded = {"stamp": None, "meta": None, "models": None}


def current():
    """The models of the newest complete training run, or None before the first one."""
    directory = model_dir()
    path = directory / METADATA
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    with _lock:
        if _loaded["stamp"] != stamp:
            meta = read_metadata(directory)
            _loaded.update(stamp=stamp, meta=meta, models={name: joblib.load(directory / f) for name, f in MODEL_FILES.items()})
        return _loaded["meta"], _loaded["models"]


@app.get("/healthz")
def healthz():
    return "ok"


@app.get("/readyz")
def readyz():
    return ("ok", 200) if current() else ("models not trained yet", 503)


@app.post("/predict")
def predict():
    loaded = current()
    if not loaded:
        return jsonify(error="models not trained yet"), 503
    meta, models = loaded
    body = request.get_json(silent=True) or {}
    instances = body.get("instances")
    width = len(meta["features"])
    if not isinstance(instances, list) or not instances or not all(
        isinstance(row, list) and len(row) == width and all(isinstance(v, (int, float)) for v in row) for row in instances
    ):
        return jsonify(error=f'expected {{"instances": [[{width} numbers: {", ".join(meta["features"])}], ...]}}'), 400
    predictions = {name: [str(p) for p in clf.predict(instances)] for name, clf in models.items()}
    cv_accuracy = {n: m["cv_accuracy"] for n, m in meta["models"].items()}
    return jsonify(predictions=predictions, model={"trained_at": meta["trained_at"], "cv_accuracy": cv_accuracy})
