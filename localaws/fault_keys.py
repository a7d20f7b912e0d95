"""Which requests a seeded fault hits, independently of thread scheduling.

A request's key is its service, region and operation, a digest of its parameters with every
value AWS or the SDK generates masked out (IDs, ARNs' random parts, client tokens, timestamps:
any run of letters and digits that holds a digit, and hex runs), and the occurrence number of that key so far.
Concurrent requests of one key differ only in what was masked, so whichever arrives n-th gets the
n-th key: the same request set gives the same keys in any order. Whether a key is hit, and how,
is drawn from the seed and the key alone."""

import hashlib
import json
import random
import re
import threading

from . import request_validation
from .meter import operation as _operation

# A run of letters and digits that holds a digit, or a hex run of four or more between non-word
# characters (a UUID's segment can be all letters: `key/1f0e…-beef-…`).
_GENERATED = re.compile(r"[A-Za-z0-9]*[0-9][A-Za-z0-9]*|\b[0-9a-fA-F]{4,}\b")


def key(request):
    """`service region operation digest` of `request`."""
    read = request_validation.parsed(request)
    if read is None:
        operation, params = _operation(request), request.path
    else:
        operation, params = read[1], read[4]
    shape = _GENERATED.sub("#", json.dumps(params, sort_keys=True, default=str))
    digest = hashlib.sha256(shape.encode()).hexdigest()[:8]
    return f"{request.service or 'unknown'} {request.region} {operation} {digest}"


class Occurrences:
    """Numbers each key's occurrences; the log of what was drawn for them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._seen = {}
        self._log = []

    def next(self, base):
        """`base #n` for the n-th occurrence of `base`."""
        with self._lock:
            n = self._seen.get(base, 0) + 1
            self._seen[base] = n
        return f"{base} #{n}"

    def record(self, numbered, kind):
        with self._lock:
            self._log.append([numbered, kind])

    def log(self):
        """What was drawn, sorted: the same for the same request set in any order."""
        with self._lock:
            return sorted(self._log)

    def reset(self):
        with self._lock:
            self._seen.clear()
            self._log.clear()


def draw(seed, numbered):
    """The random source of one numbered key under `seed`."""
    return random.Random(f"{seed}:{numbered}")
