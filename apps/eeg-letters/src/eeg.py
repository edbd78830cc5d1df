"""What train.py, inference.py and api.py share: where the data and the models are."""
import json
import os
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABEL = "letter"
MODEL_FILES = {"lda": "clf_lda.joblib", "nn": "clf_nn.joblib"}
METADATA = "metadata.json"


def model_dir() -> Path:
    """The model directory the manifest mounts (MODEL_DIR, set by cdk8s-ml)."""
    value = os.environ.get("MODEL_DIR")
    if not value:
        raise SystemExit("MODEL_DIR is not set: run this through the TrainingJob/BatchInferenceJob/InferenceService manifests")
    return Path(value)


def data_file() -> Path:
    """DATA_FILE, else eeg-letters.csv in DATA_DIR (a mounted input), else the file shipped in the image."""
    if os.environ.get("DATA_FILE"):
        return Path(os.environ["DATA_FILE"])
    if os.environ.get("DATA_DIR"):
        return Path(os.environ["DATA_DIR"]) / "eeg-letters.csv"
    return HERE / "data" / "eeg-letters.csv"


def write_atomically(path: Path, write) -> None:
    """Write to a temporary file next to `path`, then rename: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_metadata(directory: Path):
    path = directory / METADATA
    return json.loads(path.read_text()) if path.exists() else None
