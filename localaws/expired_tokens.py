"""Temporary credentials past their expiry. A test marks an access key expired
(a request to `/localaws/expire/<access key ID>`); every request signed with it is then refused as AWS
refuses an expired session token: STS and the other Query and REST-XML services answer
`ExpiredToken` ("The security token included in the request is expired", HTTP 403), the JSON
services `ExpiredTokenException` (IAM/STS API reference, "Common Errors":
https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html; STS's wire code for a
session token is `ExpiredToken`, as hashicorp/aws's `tfawserr.ErrCodeEquals(err, "ExpiredToken")`
and aws-sdk-go's `request.IsErrorExpiredCreds` read it)."""

import threading

from . import chaos
from .wsgi import Response

_lock = threading.Lock()
_expired = set()
MESSAGE = "The security token included in the request is expired"


def control(path):
    key = path.rsplit("/", 1)[-1]
    with _lock:
        _expired.add(key)
    return Response(200, [("Content-Type", "text/plain")], b"expired " + key.encode())


def reset():
    with _lock:
        _expired.clear()


def take(request):
    """The refusal of a request signed with an expired key, or None."""
    with _lock:
        expired = request.access_key in _expired
    if not expired:
        return None
    code = "ExpiredTokenException" if request.service in ("dynamodb", "kms") else "ExpiredToken"
    return chaos.error(request, request.service, 403, code, MESSAGE)
