"""Transient faults at a configurable rate, the way AWS produces them, to prove the provider
converges through them: `LOCALAWS_FAULT_RATE=0.1` fails one request in ten with the service's own throttling error, an
HTTP 500, an HTTP 503, or a connection reset. Which requests fail, and how, is drawn from
`LOCALAWS_FAULT_SEED` (default 1) and the request's key (`fault_keys.py`), never from the order
in which concurrent requests arrive: a seed reproduces its faults. `LOCALAWS_LATENCY_MS` adds
latency to every request.

Faults happen before moto sees the request, as AWS's throttling and front-end errors do: the
request had no effect. (A response lost *after* the work was done is what the crash tests
cover.) Every injected fault is counted by kind and service; `GET /localaws/faults` returns the
counts as JSON, `GET /localaws/faults/log` every fault as `[key, kind]`, sorted.
`GET /localaws/faults/pause` and `.../resume` stop and restart injection, so
that a test can read the emulator without faults of its own."""

import json
import os
import socket
import struct
import threading
import time
import uuid

from . import fault_keys
from .cloudwatch_cbor import cbor_response
from .wsgi import Response

RATE = float(os.environ.get("LOCALAWS_FAULT_RATE", "0") or 0)
LATENCY = float(os.environ.get("LOCALAWS_LATENCY_MS", "0") or 0) / 1000
SEED = os.environ.get("LOCALAWS_FAULT_SEED", "1") or "1"
_lock = threading.Lock()
_counts = {}
_keys = fault_keys.Occurrences()
_paused = False
KINDS = ("throttle", "500", "503", "reset")

# The throttling error each service really returns.
THROTTLE = {
    "ec2": (503, "RequestLimitExceeded", "Request limit exceeded."),
    "elasticloadbalancing": (400, "Throttling", "Rate exceeded"),
    "autoscaling": (400, "Throttling", "Rate exceeded"),
    "iam": (400, "Throttling", "Rate exceeded"),
    "sts": (400, "Throttling", "Rate exceeded"),
    # "An error occurred (ThrottlingException) when calling the Subscribe operation: Rate
    # exceeded" (https://repost.aws/knowledge-center/sns-throttling-exception-errors). SNS's
    # modelled `Throttled` (HTTP 429) is for SMS operations only.
    "sns": (400, "ThrottlingException", "Rate exceeded"),
    # https://docs.aws.amazon.com/kms/latest/developerguide/throttling.html
    "kms": (400, "ThrottlingException", "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."),
    "route53": (400, "Throttling", "Rate exceeded"),
    "dynamodb": (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "monitoring": (400, "Throttling", "Rate exceeded"),
}
SERVER = {"500": (500, "InternalFailure", "injected internal error"), "503": (503, "ServiceUnavailable", "injected: service unavailable")}


def counts():
    with _lock:
        return json.loads(json.dumps(_counts))


def reset():
    with _lock:
        _counts.clear()
    _keys.reset()


def control(path):
    """Answers `/localaws/faults[/pause|/resume|/log]`."""
    global _paused
    with _lock:
        if path.endswith("/pause"):
            _paused = True
        elif path.endswith("/resume"):
            _paused = False
    body = _keys.log() if path.endswith("/log") else counts()
    return Response(200, [("Content-Type", "application/json")], json.dumps(body).encode())


def take(request):
    """A fault response for this request, or None to let it through."""
    if request.path.startswith("/moto-api") or request.path.startswith("/localaws"):
        return None
    if LATENCY:
        time.sleep(LATENCY)
    if RATE <= 0:
        return None
    with _lock:
        if _paused:
            return None
    numbered = _keys.next(fault_keys.key(request))
    draw = fault_keys.draw(SEED, numbered)
    if draw.random() >= RATE:
        return None
    kind = KINDS[draw.randrange(len(KINDS))]
    service = request.service or "unknown"
    _keys.record(numbered, kind)
    with _lock:
        _counts.setdefault(kind, {}).setdefault(service, 0)
        _counts[kind][service] += 1
    if kind == "reset":
        return _reset(request)
    status, code, message = THROTTLE.get(service, THROTTLE["iam"]) if kind == "throttle" else SERVER[kind]
    return error(request, service, status, code, message)


def error(request, service, status, code, message):
    """The error in the service's wire protocol."""
    if request.path.startswith("/service/GraniteServiceVersion20100801/"):
        return cbor_response(status, {"__type": code, "message": message})
    if service == "dynamodb":
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
        return Response(status, [("Content-Type", "application/x-amz-json-1.0")], body)
    if service in ("kms", "acm"):
        body = json.dumps({"__type": code, "message": message}).encode()
        return Response(status, [("Content-Type", "application/x-amz-json-1.1")], body)
    request_id = uuid.uuid4()
    if service == "ec2":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
    else:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
                f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return Response(status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", str(request_id))], body.encode())


def _reset(request):
    """Drops the connection with a TCP reset, no response at all."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
    return Response(500, [("Connection", "close")], b"")
