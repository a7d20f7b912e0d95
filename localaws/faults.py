"""Injected failures for tests: `LOCALAWS_FAIL_ONCE=CreateNatGateway,CreateSecurityGroup` makes the
first call of each named EC2 action fail with AWS's `InternalError` (HTTP 500), so that a test
can stop an apply halfway and prove the next one resumes without duplicates. `Action@region`
arms the failure in one region only (`CreateNatGateway@us-east-2`). Other services' operations
are named as the request meter names them (`ListTables`, Route 53's `GET healthcheck`) and fail
with `InternalFailure` (HTTP 500) in the service's own wire format. `GET
/localaws/fail-once?key=<Action[@region]>` arms one more such failure while the emulator runs, for
a test that must fail a call its earlier steps make too."""

import json
import os
import threading
import uuid
from urllib.parse import parse_qs

from . import chaos, meter
from .wsgi import Response

_lock = threading.Lock()
_pending = {a.strip() for a in os.environ.get("LOCALAWS_FAIL_ONCE", "").split(",") if a.strip()}


def take(request):
    """The error response for this request if a failure is armed for its action."""
    if not request.service:
        return None
    action = request.action if request.service == "ec2" else meter.operation(request)
    with _lock:
        armed = next((k for k in (f"{action}@{request.region}", action) if k in _pending), None)
        if armed is None:
            return None
        _pending.discard(armed)
    if request.service != "ec2":
        return chaos.error(request, request.service, *chaos.SERVER["500"])
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Response><Errors><Error><Code>InternalError</Code>"
        f"<Message>injected failure of {action}</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()
    return Response(500, [("Content-Type", "text/xml")], body)


def arm(request):
    """`/localaws/fail-once?key=<Action[@region]>`: the next such call fails once."""
    query = {k: v[-1] for k, v in parse_qs(request.environ.get("QUERY_STRING", "")).items()}
    key = query.get("key", "").strip()
    if not key:
        return Response(400, [("Content-Type", "text/plain")], b"/localaws/fail-once?key=<Action[@region]>")
    with _lock:
        _pending.add(key)
        armed = sorted(_pending)
    return Response(200, [("Content-Type", "application/json")], json.dumps(armed).encode())
