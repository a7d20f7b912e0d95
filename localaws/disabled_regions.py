"""Regions the account has not enabled. Opt-in regions (af-south-1, ap-east-1, me-south-1 and the
others launched since 2019) answer nothing until the account enables them, and what they answer
reads like bad credentials: EC2 `AuthFailure` "AWS was not able to validate the provided access
credentials" (HTTP 401; turbot/steampipe-plugin-aws#75, fog/fog-aws#585, af-south-1 and ap-east-1
not enabled), the JSON services `UnrecognizedClientException` "The security token included in the
request is invalid." (epsagon/clear-lambda-storage#9, aws/chalice#1445), the Query services
`InvalidClientTokenId` with the same message (HTTP 403; remotion-dev/github-unwrapped-2022#34:
STS in eu-south-1). https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html

`LOCALAWS_DISABLED_REGIONS=<region>,<region>` makes the listed regions answer so to every request
signed for them. IAM and Route 53 are global (signed for us-east-1) and unaffected."""

import os

from . import chaos

_disabled = {r for r in os.environ.get("LOCALAWS_DISABLED_REGIONS", "").split(",") if r}
TOKEN_INVALID = "The security token included in the request is invalid."


def take(request):
    """The refusal of a request to a region the account has not enabled, or None."""
    if request.region not in _disabled or not request.service:
        return None
    if request.service == "ec2":
        return chaos.error(request, "ec2", 401, "AuthFailure", "AWS was not able to validate the provided access credentials")
    if request.service in ("dynamodb", "kms"):
        return chaos.error(request, request.service, 400, "UnrecognizedClientException", TOKEN_INVALID)
    return chaos.error(request, request.service, 403, "InvalidClientTokenId", TOKEN_INVALID)
