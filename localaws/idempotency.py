"""Idempotency tokens, which moto ignores (a retried CreateNatGateway makes a second NAT). A
repeated EC2 create with the same ClientToken returns the first call's answer, as AWS does."""

import threading

from .wsgi import Response, call

ACTIONS = {"CreateNatGateway", "CreateLaunchTemplate"}
_lock = threading.Lock()
_answers = {}



def handles(request):
    return request.service == "ec2" and request.action in ACTIONS and "ClientToken" in request.form


def handle(app, request, account):
    params = request.form
    key = (account, request.region, params["Action"], params["ClientToken"])
    with _lock:
        cached = _answers.get(key)
    if cached:
        return Response(cached.status, list(cached.headers), cached.body)
    answer = call(app, request.environ)
    if answer.status < 400:
        with _lock:
            _answers[key] = answer
    return answer


def reset():
    with _lock:
        _answers.clear()
