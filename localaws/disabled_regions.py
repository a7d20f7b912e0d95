"""Regions the account has not enabled. Opt-in regions (af-south-1, ap-east-1, me-south-1 and the
others launched since 2019) answer nothing until the account enables them, and what they answer
reads like bad credentials: EC2 `AuthFailure` "AWS was not able to validate the provided access
credentials" (HTTP 401; turbot/steampipe-plugin-aws#75, fog/fog-aws#585, af-south-1 and ap-east-1
not enabled), the JSON services `UnrecognizedClientException` "The security token included in the
request is invalid." (epsagon/clear-lambda-storage#9, aws/chalice#1445), the Query services
`InvalidClientTokenId` with the same message (HTTP 403; remotion-dev/github-unwrapped-2022#34:
STS in eu-south-1). https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html

An enabled region can be disabled again, and "the act of disabling a Region will remove all IAM
access to any resources that reside in that Region"
(https://docs.aws.amazon.com/accounts/latest/reference/API_DisableRegion.html): what was made there
is kept, and every request to it is refused the same way.

`LOCALAWS_DISABLED_REGIONS=<region>,<region>` makes the listed regions answer so to every request
signed for them, STS's included; at run time `GET /localaws/disabled/<region>` disables one,
`/localaws/disabled/<region>/end` enables it again, and `GET /localaws/disabled` lists them. IAM
and Route 53 are global (signed for us-east-1) and unaffected."""

import json
import os
import threading

from . import chaos
from .wsgi import Response

_AT_START = {r for r in os.environ.get("LOCALAWS_DISABLED_REGIONS", "").split(",") if r}
_lock = threading.Lock()
_disabled = set(_AT_START)
TOKEN_INVALID = "The security token included in the request is invalid."


def take(request):
    """The refusal of a request to a region the account has not enabled, or None."""
    with _lock:
        disabled = request.region in _disabled
    if not disabled or not request.service:
        return None
    if request.service == "ec2":
        return chaos.error(request, "ec2", 401, "AuthFailure", "AWS was not able to validate the provided access credentials")
    if request.service in ("dynamodb", "kms"):
        return chaos.error(request, request.service, 400, "UnrecognizedClientException", TOKEN_INVALID)
    return chaos.error(request, request.service, 403, "InvalidClientTokenId", TOKEN_INVALID)


def control(path):
    """`/localaws/disabled[/<region>[/end]]`."""
    steps = [s for s in path.split("/") if s][2:]
    with _lock:
        if len(steps) == 1:
            _disabled.add(steps[0])
        elif len(steps) == 2 and steps[1] == "end":
            _disabled.discard(steps[0])
        elif steps:
            return Response(404, [("Content-Type", "text/plain")], b"/localaws/disabled[/<region>[/end]]")
        body = json.dumps({"disabled": sorted(_disabled)}).encode()
    return Response(200, [("Content-Type", "application/json")], body)


def reset():
    with _lock:
        _disabled.clear()
        _disabled.update(_AT_START)
