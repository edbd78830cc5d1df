#!/usr/bin/env python3
"""netprobe: the test node's client and target image for network tests (runs as non-root).

  netprobe sleep                      wait for SIGTERM (the default: `kubectl exec` into it)
  netprobe tcp HOST PORT [TIMEOUT]    exit 0 when a TCP connection opens, 1 when refused or timed out
  netprobe http URL [TIMEOUT]         print {"status", "body"} as JSON; exit 0 on any HTTP answer, 1 if none
  netprobe dns NAME                   print the addresses NAME resolves to; exit 1 if it does not resolve
  netprobe serve PORT                 answer every HTTP request with {"hostname", "path"} (a target pod)
Every failure prints one line saying why, on stderr.
"""
import json
import signal
import socket
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def fail(message):
    print(f"netprobe: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def tcp(host, port, timeout="3"):
    try:
        with socket.create_connection((host, int(port)), timeout=float(timeout)):
            print(f"connected to {host}:{port}", flush=True)
    except OSError as e:
        fail(f"tcp {host}:{port}: {e}")


def http(url, timeout="5"):
    try:
        with urllib.request.urlopen(url, timeout=float(timeout)) as r:
            status, body = r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        fail(f"http {url}: {getattr(e, 'reason', e)}")
    print(json.dumps({"status": status, "body": body}), flush=True)


def dns(name):
    try:
        addresses = sorted({a[4][0] for a in socket.getaddrinfo(name, None)})
    except OSError as e:
        fail(f"dns {name}: {e}")
    print("\n".join(addresses), flush=True)


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        data = json.dumps({"hostname": socket.gethostname(), "path": self.path}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def serve(port):
    print(f"netprobe serving on {port}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", int(port)), Echo).serve_forever()


def sleep():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    while True:
        signal.pause()


COMMANDS = {"sleep": (sleep, 0, 0), "tcp": (tcp, 2, 3), "http": (http, 1, 2), "dns": (dns, 1, 1), "serve": (serve, 1, 1)}

if __name__ == "__main__":
    args = sys.argv[1:] or ["sleep"]
    command = COMMANDS.get(args[0])
    if command is None or not command[1] <= len(args) - 1 <= command[2]:
        fail(f"usage: netprobe sleep | tcp HOST PORT [TIMEOUT] | http URL [TIMEOUT] | dns NAME | serve PORT; got {args}")
    command[0](*args[1:])
