"""Injected failures for tests: `LOCALAWS_FAIL_ONCE=CreateNatGateway,CreateSecurityGroup` makes the
first call of each named EC2 action fail with AWS's `InternalError` (HTTP 500), so that a test
can stop an apply halfway and prove the next one resumes without duplicates. `Action@region`
arms the failure in one region only (`CreateNatGateway@us-east-2`)."""

import os
import threading
import uuid

from .wsgi import Response

_lock = threading.Lock()
_pending = {a.strip() for a in os.environ.get("LOCALAWS_FAIL_ONCE", "").split(",") if a.strip()}


def take(request):
    """The error response for this request if a failure is armed for its action."""
    action = request.action if request.service == "ec2" else None
    if action is None:
        return None
    with _lock:
        armed = next((k for k in (f"{action}@{request.region}", action) if k in _pending), None)
        if armed is None:
            return None
        _pending.discard(armed)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Response><Errors><Error><Code>InternalError</Code>"
        f"<Message>injected failure of {action}</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()
    return Response(500, [("Content-Type", "text/xml")], body)
