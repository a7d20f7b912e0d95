"""Idempotency tokens, which moto ignores (a retried CreateNatGateway makes a second NAT). A
repeated EC2 create with the same ClientToken returns the first call's answer, as AWS does; the
same token with other parameters is `IdempotentParameterMismatch` ("If you repeat a request with
the same client token but change one or more parameters, Amazon EC2 returns an
IdempotentParameterMismatch error": https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html)."""

import threading

from .wsgi import Response, call, ec2_error

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
        first_params, first_answer = cached
        if first_params != params:
            return _mismatch(params["ClientToken"])
        return Response(first_answer.status, list(first_answer.headers), first_answer.body)
    answer = call(app, request.environ)
    if answer.status < 400:
        with _lock:
            _answers[key] = (dict(params), answer)
    return answer


def _mismatch(token):
    return ec2_error("IdempotentParameterMismatch", f"Client token {token} was used before with other parameters.")


def reset():
    with _lock:
        _answers.clear()
