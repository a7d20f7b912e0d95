"""A response lost after AWS did the work: the request was processed, then the connection drops
before the answer arrives, as when a network path fails mid-response. A client that sends the
request again makes a second object, unless the call is idempotent (a ClientToken, a caller
reference, a unique name) or the client looks for what the first call made before creating again.

`LOCALAWS_LOST_RATE=0.1` loses the answer of one create call in ten (`LOCALAWS_LOST_SEED`, default
1). Successful create calls are numbered as they are answered; whether the n-th one's answer is
lost is a function of the seed and n alone, so a seed reproduces the same faults for the same
sequence of calls. `GET /localaws/lost` lists the lost calls as `[n, "service Operation"]`."""

import json
import os
import random
import threading

from . import request_validation
from .chaos import _reset
from .wsgi import Response

RATE = float(os.environ.get("LOCALAWS_LOST_RATE", "0") or 0)
SEED = os.environ.get("LOCALAWS_LOST_SEED", "1") or "1"
# The calls that make an object: Create*, Allocate*, Run*, Put* (alarms, scaling policies,
# policies), and the two whose names say otherwise.
_PREFIXES = ("Create", "Allocate", "Run", "Put")
_OTHERS = {"Subscribe", "ChangeResourceRecordSets"}
_lock = threading.Lock()
_numbered = 0
_lost = []


def is_create(operation):
    return operation.startswith(_PREFIXES) or operation in _OTHERS


def lost(seed, number):
    """Whether the answer of the `number`-th create call is lost under `seed`."""
    return random.Random(f"{seed}:{number}").random() < RATE


def after(request, response):
    """The response to send: `response`, or a connection reset if this create's answer is lost."""
    global _numbered
    if RATE <= 0 or response.status >= 400 or request.path.startswith(("/moto-api", "/localaws")):
        return response
    read = request_validation.parsed(request)
    if read is None or not is_create(read[1]):
        return response
    with _lock:
        _numbered += 1
        number = _numbered
        if not lost(SEED, number):
            return response
        _lost.append([number, f"{request.service} {read[1]}"])
    return _reset(request)


def report():
    with _lock:
        body = json.dumps(_lost).encode()
    return Response(200, [("Content-Type", "application/json")], body)


def reset():
    global _numbered
    with _lock:
        _numbered = 0
        _lost.clear()
