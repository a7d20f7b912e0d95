"""Counts the AWS requests the emulator answers, by service, for benchmarks:
`GET /localaws/requests` returns the counts as JSON."""

import json
import threading

from .wsgi import Response

_lock = threading.Lock()
_counts = {}


def count(request):
    if request.path.startswith("/moto-api") or request.path.startswith("/localaws"):
        return
    with _lock:
        service = request.service or "unknown"
        _counts[service] = _counts.get(service, 0) + 1


def reset():
    with _lock:
        _counts.clear()


def report():
    with _lock:
        body = json.dumps(_counts).encode()
    return Response(200, [("Content-Type", "application/json")], body)
