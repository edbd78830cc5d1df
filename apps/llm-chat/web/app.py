"""A one-page chat with an LLM served by vLLM's OpenAI-compatible API.

Nothing is hard-coded: cdk8s-ml injects OPENAI_BASE_URL (http://<service>.<namespace>.svc:8000/v1)
and OPENAI_MODEL from the LlmServer it is wired to, in the cluster and in compose alike. It calls
POST $OPENAI_BASE_URL/chat/completions with requests (the openai SDK reads the same variables).
Served by gunicorn; Flask's development server is never used.
"""
import os

import requests
from flask import Flask, render_template, request

app = Flask(__name__)

BASE_URL = os.environ["OPENAI_BASE_URL"].rstrip("/")
MODEL = os.environ["OPENAI_MODEL"]
TIMEOUT_SECONDS = float(os.environ.get("CHAT_TIMEOUT_SECONDS", "120"))
SYSTEM_PROMPT = os.environ.get("CHAT_SYSTEM_PROMPT", "You are a helpful assistant. Answer briefly.")
MAX_PROMPT_CHARS = 4000


@app.get("/healthz")
def healthz():
    # Answers without calling the model: a busy GPU must not take the web pods out of rotation.
    return {"status": "ok"}


def ask(prompt):
    answer = requests.post(
        f"{BASE_URL}/chat/completions",
        json={
            "model": MODEL,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
            "max_tokens": 512,
        },
        timeout=TIMEOUT_SECONDS,
    )
    answer.raise_for_status()
    return answer.json()["choices"][0]["message"]["content"]


@app.route("/", methods=["GET", "POST"])
def index():
    prompt = request.form.get("prompt", "")
    reply = error = None
    if request.method == "POST":
        if not prompt.strip():
            error = "Type a question first."
        elif len(prompt) > MAX_PROMPT_CHARS:
            error = f"Keep the question under {MAX_PROMPT_CHARS} characters."
        else:
            try:
                reply = ask(prompt)
            except (requests.RequestException, KeyError, IndexError) as e:
                app.logger.warning("model call failed: %s", e)
                error = "The model did not answer; try again."
    return render_template("index.html", prompt=prompt, reply=reply, error=error, model=MODEL)
