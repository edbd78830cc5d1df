"""A stand-in for tensorflow/serving in compose end-to-end tests (the real image cannot be pulled here).

Run with the same args the generated compose file gives TF Serving. Like the real server it reads
--model_config_file at start-up and exits when that file is missing (so a compose tool that drops the
mount is caught), opens REST 8501 and gRPC 8500 only once the "models" are loaded, answers
GET /v1/models/<name> for the configured models and POST /v1/models/<name>:predict with one
prediction per instance (the AND of each instance's inputs), and logs every request to stdout.
"""
import json
import re
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

config_path = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--model_config_file=")), None)
if config_path is None:
    sys.exit("stand-in: no --model_config_file flag")
try:
    with open(config_path, encoding="utf-8") as f:
        models = re.findall(r'name:\s*"([^"]+)"', f.read())
except OSError as e:
    sys.exit(f"stand-in: cannot read the model config {config_path}: {e}")
print(f"stand-in: serving {models} from {config_path}", flush=True)


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        m = re.fullmatch(r"/v1/models/([^/:]+)", self.path)
        if m and m.group(1) in models:
            return self.reply(200, {"model_version_status": [{"version": "1", "state": "AVAILABLE"}]})
        return self.reply(404, {"error": f"Could not find any versions of model {self.path}"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        print(f"stand-in: POST {self.path} {json.dumps(body)}", flush=True)
        m = re.fullmatch(r"/v1/models/([^/:]+):predict", self.path)
        if not m or m.group(1) not in models:
            return self.reply(404, {"error": "no such model"})
        return self.reply(200, {"predictions": [[float(all(x == 1 for x in inst))] for inst in body.get("instances", [])]})

    def log_message(self, *args):
        pass


def grpc_placeholder():
    with socket.create_server(("0.0.0.0", 8500)) as s:
        while True:
            s.accept()[0].close()


threading.Thread(target=grpc_placeholder, daemon=True).start()
ThreadingHTTPServer(("0.0.0.0", 8501), Handler).serve_forever()
