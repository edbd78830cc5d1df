"""A stand-in for the canary stack's prebuilt scorer image (registry.example.com/scorer:<version>).

The manifest runs it with no command or args, probes GET /healthz on 8080 and the canary web app POSTs
JSON to /predict (SCORER_PREDICT_URL). Every answer carries the image's own version
($SCORER_VERSION) and the pod's hostname, so a test can count which Deployment (stable or canary)
answered. Writes nothing to disk (read-only root, any uid).
"""
import json
import os
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = os.environ.get("SCORER_VERSION", "unknown")
MODEL = os.environ.get("MODEL_NAME", "scorer")
HOST = socket.gethostname()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body):
        data = json.dumps({"version": VERSION, "model": MODEL, "hostname": HOST, **body}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.split("?", 1)[0] in ("/healthz", "/"):
            return self.reply(200, {"status": "ok"})
        return self.reply(404, {"error": f"no route GET {self.path}"})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length", 0) or 0))
        if self.path.split("?", 1)[0] != "/predict":
            return self.reply(404, {"error": f"no route POST {self.path}"})
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self.reply(400, {"error": "JSON body expected"})
        instances = body.get("instances", []) if isinstance(body, dict) else []
        scores = [round(0.5 + 0.01 * len(json.dumps(i)) % 0.5, 4) for i in instances]
        return self.reply(200, {"predictions": scores})

    def log_message(self, *args):
        pass


print(f"scorer stand-in {VERSION} ({MODEL}) on 8080", flush=True)
ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
