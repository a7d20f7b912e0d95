"""How many reads an asynchronous state stays pending before it settles (NAT gateways, load
balancers, Auto Scaling instances, DynamoDB replicas, Route 53 changes): `LOCALAWS_PENDING_READS`,
default 2. `GET /localaws/pending/<n>` changes it at runtime and shortens what is already
pending to at most n reads: a timeout test makes a part hang, then lets it finish."""

import os
import threading

from .wsgi import Response

_lock = threading.Lock()
_reads = int(os.environ.get("LOCALAWS_PENDING_READS", "2"))
_clamps = []


def reads():
    return _reads


def on_change(clamp):
    """Registers `clamp(n)`, called to shorten a module's pending states to at most n reads."""
    _clamps.append(clamp)


def control(path):
    global _reads
    tail = path.rsplit("/", 1)[-1]
    if tail.isdigit():
        with _lock:
            _reads = int(tail)
        for clamp in _clamps:
            clamp(_reads)
    return Response(200, [("Content-Type", "text/plain")], str(_reads).encode())
