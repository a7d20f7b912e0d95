"""Injected failures for tests: `LOCALAWS_FAIL_ONCE=CreateNatGateway,CreateSecurityGroup` makes the
first call of each named EC2 action fail with AWS's `InternalError` (HTTP 500), so that a test
can stop an apply halfway and prove the next one resumes without duplicates."""

import os
import threading
import uuid
from urllib.parse import parse_qs

from .wsgi import Response

_lock = threading.Lock()
_pending = {a.strip() for a in os.environ.get("LOCALAWS_FAIL_ONCE", "").split(",") if a.strip()}


def ec2_action(request):
    if request.service != "ec2":
        return None
    return parse_qs(request.body.decode(errors="replace")).get("Action", [None])[0]


def take(request):
    """The error response for this request if a failure is armed for its action."""
    action = ec2_action(request)
    with _lock:
        if action not in _pending:
            return None
        _pending.discard(action)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Response><Errors><Error><Code>InternalError</Code>"
        f"<Message>injected failure of {action}</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()
    return Response(500, [("Content-Type", "text/xml")], body)
