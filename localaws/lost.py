"""A response lost after AWS did the work: the request was processed, then the connection drops
before the answer arrives, as when a network path fails mid-response. A client that sends the
request again makes a second object, unless the call is idempotent (a ClientToken, a caller
reference, a unique name) or the client looks for what the first call made before creating again.

`LOCALAWS_LOST_RATE=0.1` loses the answer of one create call in ten (`LOCALAWS_LOST_SEED`, default
1). Whether a successful create's answer is lost is a function of the seed and the call's key
(`fault_keys.py`: service, region, operation, parameters, occurrence) alone, so a seed
reproduces the same faults for the same calls, in whatever order concurrent calls arrive.
`GET /localaws/lost` lists the lost calls as `[key, "lost"]`, sorted."""

import json
import os

from . import fault_keys, request_validation
from .chaos import _reset
from .wsgi import Response

RATE = float(os.environ.get("LOCALAWS_LOST_RATE", "0") or 0)
SEED = os.environ.get("LOCALAWS_LOST_SEED", "1") or "1"
# The calls that make an object: Create*, Allocate*, Run*, Put* (alarms, scaling policies,
# policies), and the two whose names say otherwise.
_PREFIXES = ("Create", "Allocate", "Run", "Put")
_OTHERS = {"Subscribe", "ChangeResourceRecordSets"}
_keys = fault_keys.Occurrences()


def is_create(operation):
    return operation.startswith(_PREFIXES) or operation in _OTHERS


def after(request, response):
    """The response to send: `response`, or a connection reset if this create's answer is lost."""
    if RATE <= 0 or response.status >= 400 or request.path.startswith(("/moto-api", "/localaws")):
        return response
    read = request_validation.parsed(request)
    if read is None or not is_create(read[1]):
        return response
    numbered = _keys.next(fault_keys.key(request))
    if fault_keys.draw(SEED, numbered).random() >= RATE:
        return response
    _keys.record(numbered, "lost")
    return _reset(request)


def report():
    return Response(200, [("Content-Type", "application/json")], json.dumps(_keys.log()).encode())


def reset():
    _keys.reset()
