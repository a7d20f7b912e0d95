"""Lookups whose answer never changes while the emulator runs, made once. moto's server repeats
two on every request: it lists its own package directory to find a request's backend (under the
dispatcher's one lock), and a response class's methods to find the action's handler. Ours load
botocore's service models (`once`). A profile of eight systems applied at once (`py-spy record
--gil` on the emulator) found about a third of the emulator's CPU in these. A matter of the
emulator's speed, not an AWS behaviour: every answer is the same."""

import functools
import threading

from moto import backends
from moto.core import responses

_installed = False


def once(build):
    """`build`'s value for each argument, built once. Unlike `functools.lru_cache`, threads that
    arrive together at a cold entry wait for the one building it instead of each parsing
    botocore's JSON under the interpreter lock (the first burst of requests of eight systems
    spent seconds of the emulator's CPU so)."""
    built = {}
    lock = threading.Lock()

    @functools.wraps(build)
    def cached(*key):
        value = built.get(key)
        if value is None:
            with lock:
                value = built.get(key)
                if value is None:
                    value = built[key] = build(*key)
        return value

    return cached


def install():
    """Installed in `app.build`: a class's methods are listed at its first request, after every
    module has patched the response classes."""
    global _installed
    if _installed:
        return
    _installed = True
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    responses.method_names_from_class = once(responses.method_names_from_class)
