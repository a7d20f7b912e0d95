"""CloudWatch over Smithy RPCv2-CBOR, which aws-sdk-cloudwatch speaks and moto does not (moto
answers 404). Requests are decoded and forwarded to moto as AWS JSON 1.0; answers are encoded
back to CBOR, shaped by botocore's model of the service so that timestamps become CBOR tag 1 and
doubles stay doubles, as the Rust SDK's decoder requires."""

import datetime
import json

import botocore.session
import cbor2

from . import request_validation
from .wsgi import Request, Response, call

PREFIX = "/service/GraniteServiceVersion20100801/operation/"
_model = botocore.session.get_session().get_service_model("cloudwatch")


def handles(request):
    return request.path.startswith(PREFIX)


def params(request):
    """The request's parameters, as moto's JSON protocol expects them."""
    return _jsonable(cbor2.loads(request.body)) if request.body else {}


def answer(operation, data):
    """A successful answer to `operation`, typed by its botocore output shape."""
    output = _model.operation_model(operation).output_shape
    return cbor_response(200, _shape(output, data) if output else {})


def handle(app, request):
    operation = request.path[len(PREFIX):]
    forwarded = request.environ_with(
        json.dumps(params(request)).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"GraniteServiceVersion20100801.{operation}",
        },
        path="/",
    )
    refused = request_validation.check(Request(forwarded, forwarded["wsgi.input"].getvalue()), "monitoring")
    moto = refused or call(app, forwarded)
    if moto.status >= 400:
        return _error(moto)
    return answer(operation, moto.json() if moto.body.strip() else {})


def cbor_response(status, data):
    return Response(
        status,
        [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")],
        cbor2.dumps(data),
    )


def _error(answer):
    try:
        data = answer.json()
    except ValueError:
        data = {"__type": "InternalFailure", "message": answer.body.decode(errors="replace")[:500]}
    code = str(data.get("__type") or data.get("code") or "InternalFailure").split("#")[-1]
    message = data.get("message") or data.get("Message") or ""
    response = cbor_response(answer.status, {"__type": code, "message": message})
    # CloudWatch is awsQueryCompatible: the Query error code (`ValidationError`, …) travels in
    # this header, and the SDKs report it instead of the body's type.
    query_error = answer.header("x-amzn-query-error")
    if query_error:
        response.headers.append(("x-amzn-query-error", query_error))
    return response


def _jsonable(value):
    """CBOR request values as moto's JSON protocol expects them."""
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, cbor2.CBORTag) and value.tag == 1:
        return float(value.value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _shape(shape, value):
    """moto's JSON answer, typed by the botocore output shape."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        return {
            name: _shape(member, value[name])
            for name, member in shape.members.items()
            if name in value and value[name] is not None
        }
    if kind == "list":
        return [_shape(shape.member, v) for v in value]
    if kind == "map":
        return {k: _shape(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return cbor2.CBORTag(1, _epoch(value))
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long"):
        return int(value)
    if kind == "boolean":
        return bool(value) if not isinstance(value, str) else value.lower() == "true"
    return value


def _epoch(value):
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()
