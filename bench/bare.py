"""The bare stack for comparison: Flask answering JSON, nothing else (`gunicorn bench.bare:app`)."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/bare")
def bare():  # type: ignore[no-untyped-def]
    body = request.get_json()
    return jsonify(id=1, status="received", niche=body.get("niche")), 201
