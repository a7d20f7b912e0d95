"""Errors of the AWS Query protocol services in their own wire format, where moto differs: moto
answers authentication and authorization failures (with `INITIAL_NO_AUTH_ACTION_COUNT` set) in
EC2's shape, `<ErrorResponse><Errors><Error>…</Error></Errors></ErrorResponse>`, for every
service. Query services (STS, IAM, Auto Scaling, ELBv2, SNS) answer
`<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>
<RequestId>…</RequestId></ErrorResponse>` (Smithy awsQuery protocol, "Operation error
serialization": https://smithy.io/2.0/aws/protocols/aws-query-protocol.html), which is all the
AWS SDKs parse: the Rust SDK reads moto's shape as an error without a code."""

import re
import uuid

from .wsgi import Response

_QUERY_SERVICES = {"sts", "iam", "autoscaling", "elasticloadbalancing", "sns"}
_WRAPPED = re.compile(rb"<ErrorResponse[^>]*>\s*<Errors>\s*(<Error>.*?</Error>)\s*</Errors>\s*(.*?)</ErrorResponse>", re.S)


def fix(request, response):
    if request.service not in _QUERY_SERVICES or response.status < 400:
        return response
    match = _WRAPPED.search(response.body)
    if not match:
        return response
    rest = match.group(2)
    if b"<RequestId>" not in rest:
        rest += f"<RequestId>{uuid.uuid4()}</RequestId>".encode()
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse>' + match.group(1) + rest + b"</ErrorResponse>"
    headers = [(k, v) for k, v in response.headers if k.lower() not in ("content-type", "content-length")]
    headers.append(("Content-Type", "text/xml"))
    return Response(response.status, headers, body)
