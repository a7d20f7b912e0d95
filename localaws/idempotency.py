"""Idempotency tokens, which moto ignores (a retried CreateNatGateway makes a second NAT). A
repeated EC2 create with the same ClientToken returns the first call's answer, as AWS does; the
same token with other parameters is `IdempotentParameterMismatch` ("If you repeat a request with
the same client token but change one or more parameters, Amazon EC2 returns an
IdempotentParameterMismatch error": https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html).

Every EC2 action whose input has a `ClientToken` in botocore's model is covered (CreateRouteTable,
CreateLaunchTemplateVersion, ModifyLaunchTemplate, RunInstances, ...). A token is scoped to its
account, region and action ("You can use the same client token for the same request across
different regions"), and is kept for the emulator's lifetime: AWS keeps it "for at least 24 hours
after the termination" of what it made
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Run_Instance_Idempotency.html), so a
client reusing a token after deleting what it made gets the deleted object back and nothing new
is made, here as there."""

import threading

from moto.core.utils import get_service_model

from .moto_lookups import once
from .wsgi import Response, call, ec2_error

_lock = threading.Lock()
_answers = {}


@once
def actions():
    """The EC2 actions that accept a ClientToken."""
    model = get_service_model("ec2")
    return frozenset(
        name
        for name in model.operation_names
        if "ClientToken" in getattr(model.operation_model(name).input_shape, "members", {})
    )



def handles(request):
    return request.service == "ec2" and request.action in actions() and "ClientToken" in request.form


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
