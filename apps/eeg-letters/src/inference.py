"""Batch inference: loads the models from MODEL_DIR, predicts the letters of an input CSV, prints
the scores and writes predictions.csv and scores.json to OUTPUT_DIR."""
import json
import os
from pathlib import Path

import joblib
import pandas as pd

from eeg import LABEL, METADATA, MODEL_FILES, data_file, model_dir, read_metadata, write_atomically


def main() -> None:
    models_at = model_dir()
    # The pod's model-wait init container (cdk8s-ml) has waited for the trainer's metadata.json.
    meta = read_metadata(models_at)
    if meta is None:
        raise SystemExit(f"no {METADATA} in {models_at}: run the training job first")
    models = {name: joblib.load(models_at / file) for name, file in MODEL_FILES.items()}
    source = Path(os.environ["INPUT_FILE"]) if os.environ.get("INPUT_FILE") else data_file()
    df = pd.read_csv(source)
    X = df[meta["features"]].to_numpy(dtype=float)
    predictions = pd.DataFrame({name: clf.predict(X) for name, clf in models.items()})
    scores = {"input": source.name, "rows": int(len(df)), "model_trained_at": meta["trained_at"]}
    if LABEL in df.columns:
        predictions.insert(0, LABEL, df[LABEL].to_numpy())
        for name in models:
            scores[f"{name}_accuracy"] = round(float((predictions[name] == predictions[LABEL]).mean()), 4)
    print(json.dumps(scores), flush=True)
    print(predictions.head(10).to_string(index=False), flush=True)
    if os.environ.get("OUTPUT_DIR"):
        out = Path(os.environ["OUTPUT_DIR"])
        write_atomically(out / "predictions.csv", lambda tmp: predictions.to_csv(tmp, index=False))
        write_atomically(out / "scores.json", lambda tmp: open(tmp, "w").write(json.dumps(scores, indent=2) + "\n"))
        print(f"wrote {out / 'predictions.csv'} and {out / 'scores.json'}", flush=True)


if __name__ == "__main__":
    main()
