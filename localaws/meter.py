"""Counts the AWS requests the emulator answers, by service and operation, for benchmarks:
`GET /localaws/requests` returns the counts as JSON (`{"ec2 DescribeVpcs": 3, ...}`), and
`GET /localaws/requests/log` each request's `[start, end, region, operation]` (seconds on the
emulator's monotonic clock, in the order they ended), so a benchmark can see which requests a
client made one after the other, and `GET /localaws/requests/cpu` the emulator's CPU seconds so
far."""

import json
import re
import threading
import time

from .wsgi import Response

_lock = threading.Lock()
_current = threading.local()
_counts = {}
_log = []
_ID = re.compile(r"^[A-Z0-9]{8,}$|^[0-9a-f-]{36}$")


def operation(request):
    """The API operation: the Query `Action`, the JSON target, the RPCv2 CBOR operation, or for
    Route 53's REST API the method and the path without IDs."""
    if request.action:
        return request.action
    if request.target:
        return request.target.rsplit(".", 1)[-1]
    if "/operation/" in request.path:
        return request.path.rsplit("/", 1)[-1]
    steps = [s for s in request.path.split("/")[2:] if s and not _ID.match(s)]
    return f"{request.environ.get('REQUEST_METHOD', '')} {'/'.join(steps)}"


def count(request):
    """Counts the request; returns what `done` needs to log it, or None for the emulator's own."""
    _current.region = request.region
    if request.path.startswith("/moto-api") or request.path.startswith("/localaws"):
        return None
    key = f"{request.service or 'unknown'} {operation(request)}"
    with _lock:
        _counts[key] = _counts.get(key, 0) + 1
    return time.monotonic(), request.region, key


def current_region():
    """The region of the AWS request this thread answers ("" outside one)."""
    return getattr(_current, "region", "") or ""


def done(counted):
    if counted is None:
        return
    start, region, key = counted
    with _lock:
        _log.append([start, time.monotonic(), region, key])


def reset():
    with _lock:
        _counts.clear()
        _log.clear()


def report(path):
    if path.endswith("/cpu"):
        # The emulator's own CPU seconds (every thread): a benchmark sees when it, not the
        # client, is what a phase waited for.
        body = json.dumps({"seconds": time.process_time()}).encode()
        return Response(200, [("Content-Type", "application/json")], body)
    with _lock:
        body = json.dumps(_log if path.endswith("/log") else _counts).encode()
    return Response(200, [("Content-Type", "application/json")], body)
