"""Fits LDA and an MLP to the EEG letters data; writes clf_lda.joblib, clf_nn.joblib and
metadata.json (with cross-validation accuracy) to MODEL_DIR."""
import json
import time

import joblib
import pandas as pd
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from eeg import LABEL, METADATA, MODEL_FILES, data_file, model_dir, write_atomically


def main() -> None:
    out = model_dir()
    source = data_file()
    df = pd.read_csv(source)
    features = [c for c in df.columns if c != LABEL]
    X, y = df[features].to_numpy(dtype=float), df[LABEL].to_numpy()
    classifiers = {
        "lda": LinearDiscriminantAnalysis(),
        "nn": make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(32,), max_iter=2000, random_state=0)),
    }
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    metadata = {
        "features": features,
        "classes": sorted(set(y.tolist())),
        "rows": int(len(df)),
        "data": source.name,
        "trained_at": int(time.time()),
        "models": {},
    }
    for name, clf in classifiers.items():
        scores = cross_val_score(clf, X, y, cv=cv)
        clf.fit(X, y)
        path = out / MODEL_FILES[name]
        write_atomically(path, lambda tmp, clf=clf: joblib.dump(clf, tmp))
        metadata["models"][name] = {"file": path.name, "cv_accuracy": round(float(scores.mean()), 4), "cv_std": round(float(scores.std()), 4)}
        print(f"{name}: cross-validation accuracy {scores.mean():.3f} +/- {scores.std():.3f} -> {path}", flush=True)
    # Last: readers take metadata.json as the sign that the models are complete.
    write_atomically(out / METADATA, lambda tmp: open(tmp, "w").write(json.dumps(metadata, indent=2) + "\n"))
    print(f"wrote {out / METADATA}", flush=True)


if __name__ == "__main__":
    main()
