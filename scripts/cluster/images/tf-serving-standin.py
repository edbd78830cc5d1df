"""A stand-in for tensorflow/serving on the test node (the real image cannot be pulled or built here).

It is the ENTRYPOINT of the local images tagged tensorflow/serving:<version>, so it gets the manifest's args.
Like the real server it needs a model config: it exits non-zero without --model_config_file, when that file
cannot be read, when it names no model, or when a model's local base_path does not exist (a remote one,
gs:// s3:// http(s)://, cannot be fetched from here and is taken as loaded: the line it logs says so).
Then it opens gRPC 8500 (TCP accept only) and REST 8501 and answers
  GET  /v1/models/<name>                     the version status, for the configured models
  GET  /v1/models/<name>/metadata            a minimal signature
  POST /v1/models/<name>:predict             one prediction per instance: the AND of a flat list of
                                             numbers, else ten scores derived from the instance's mean
  GET  /monitoring/prometheus/metrics        when --monitoring_config_file enables it
Every answer has the header x-standin-version: $TF_SERVING_STANDIN_VERSION (the image's tag), so a test
can tell a stable and a canary track apart. It writes nothing to disk (read-only root, any uid).
"""
import json
import os
import re
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = os.environ.get("TF_SERVING_STANDIN_VERSION", "unknown")
REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://")


def flag(name):
    prefix = f"--{name}="
    return next((a[len(prefix):] for a in sys.argv[1:] if a.startswith(prefix)), None)


def fail(message):
    print(f"tf-serving stand-in: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def load_models(config_path):
    try:
        with open(config_path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        fail(f"cannot read the model config {config_path}: {e}")
    models = {}
    for block in re.findall(r"config\s*\{([^{}]*)\}", text):
        name = re.search(r'name:\s*"([^"]+)"', block)
        base = re.search(r'base_path:\s*"([^"]+)"', block)
        if not name or not base:
            fail(f"a config block in {config_path} lacks name or base_path: {block.strip()}")
        models[name.group(1)] = base.group(1)
    if not models:
        fail(f"{config_path} configures no model")
    for name, base in models.items():
        if REMOTE.match(base):
            print(f"tf-serving stand-in: model {name}: remote base_path {base} not fetched (stand-in), served as loaded", flush=True)
        elif not os.path.isdir(base):
            fail(f"model {name}: base_path {base} does not exist")
    return models


def metrics_enabled():
    path = flag("monitoring_config_file")
    if path is None:
        return False
    try:
        with open(path, encoding="utf-8") as f:
            return re.search(r"enable:\s*true", f.read()) is not None
    except OSError as e:
        fail(f"cannot read the monitoring config {path}: {e}")


def predict(instance):
    if isinstance(instance, list) and all(isinstance(x, (int, float)) for x in instance):
        return [float(all(x == 1 for x in instance))]
    flat, stack = [], [instance]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, (int, float)):
            flat.append(float(item))
    mean = sum(flat) / len(flat) if flat else 0.0
    return [round(((i + 1) * (mean + 0.1)) % 1.0, 6) for i in range(10)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.send_header("x-standin-version", VERSION)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/monitoring/prometheus/metrics" and METRICS:
            return self.reply(200, f'standin_up{{version="{VERSION}"}} 1\n', "text/plain; version=0.0.4")
        m = re.fullmatch(r"/v1/models/([^/:]+)(/metadata)?", path)
        if not m or m.group(1) not in MODELS:
            return self.reply(404, {"error": f"Could not find any versions of model {path}"})
        if m.group(2):
            return self.reply(200, {"model_spec": {"name": m.group(1), "version": "1"}, "metadata": {"signature_def": {}}})
        status = {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
        return self.reply(200, {"model_version_status": [status]})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length", 0) or 0))
        m = re.fullmatch(r"/v1/models/([^/:]+):predict", self.path)
        if not m or m.group(1) not in MODELS:
            return self.reply(404, {"error": f"Could not find any versions of model {self.path}"})
        try:
            body = json.loads(raw or b"{}")
            instances = body["instances"]
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"error": "JSON body with an 'instances' list expected"})
        print(f"tf-serving stand-in: POST {self.path} ({len(instances)} instances)", flush=True)
        return self.reply(200, {"predictions": [predict(i) for i in instances]})

    def log_message(self, *args):
        pass


def grpc_port():
    with socket.create_server(("0.0.0.0", 8500)) as s:
        while True:
            s.accept()[0].close()


config = flag("model_config_file")
if config is None:
    fail("no --model_config_file flag (the cdk8s-ml manifests always pass one)")
MODELS = load_models(config)
METRICS = metrics_enabled()
print(f"tf-serving stand-in {VERSION}: serving {sorted(MODELS)} from {config} on 8501 (REST) and 8500", flush=True)
threading.Thread(target=grpc_port, daemon=True).start()
ThreadingHTTPServer(("0.0.0.0", 8501), Handler).serve_forever()
