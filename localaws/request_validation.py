"""Every request checked against AWS's own service model before moto sees it, as AWS checks it:
required members, enum values, string and list lengths, and numeric ranges of the operation's
input shape (botocore ships the models the SDKs are generated from). A violation is answered in
that service's wire format with the error AWS uses for it (moto checks little of this):

- EC2: `MissingParameter` / `InvalidParameterValue` (EC2 API "Common client error codes":
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html);
- Query services (IAM, STS, Auto Scaling, ELBv2): `ValidationError`; SNS: `InvalidParameter`
  (each API reference's "Common Errors": https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html);
- DynamoDB, KMS (JSON): `ValidationException`, "1 validation error detected: Value … at '…'
  failed to satisfy constraint: Member must …"
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html);
- Route 53 (REST-XML): `InvalidInput` (https://docs.aws.amazon.com/Route53/latest/APIReference/CommonErrors.html);
- CloudWatch: `MissingParameter` / `InvalidParameterValue`, checked on the JSON the CBOR layer
  forwards (see `cloudwatch_cbor`).

Model `pattern` traits are not enforced: they are written for Java's regex dialect and several
are known to be looser than the service (the service's own checks stay with the semantic rules
of the other modules)."""

import json
import re
from urllib.parse import parse_qsl, unquote

from moto.core.parse import PROTOCOL_PARSERS, RequestParserError
from moto.core.utils import get_service_model
from werkzeug.datastructures import Headers, MultiDict

from .moto_lookups import once
from .wsgi import ec2_error, json_error, query_error

# SigV4 scope service name -> botocore model name.
_MODELS = {
    "ec2": "ec2",
    "elasticloadbalancing": "elbv2",
    "autoscaling": "autoscaling",
    "iam": "iam",
    "sts": "sts",
    "dynamodb": "dynamodb",
    "route53": "route53",
    "monitoring": "cloudwatch",
    "sns": "sns",
    "kms": "kms",
    "acm": "acm",
}
_QUERY_CODE = {"sns": "InvalidParameter"}
_CLOUDWATCH_TARGET = "GraniteServiceVersion20100801."


@once
def _model(name):
    """botocore's model of the service, in moto's classes (its parsers need them)."""
    return get_service_model(name)


@once
def _rest_routes(name):
    """(method, compiled path regex, literal length, operation) for a REST service, longest first."""
    routes = []
    model = _model(name)
    for op_name in model.operation_names:
        http = model.operation_model(op_name).http
        uri = http["requestUri"].split("?", 1)[0]
        pattern = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", uri)
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        literal = len(re.sub(r"\{[^}]+\}", "", uri))
        routes.append((http["method"], re.compile(f"^{pattern}/?$"), literal, op_name))
    routes.sort(key=lambda r: -r[2])
    return routes


def _operation(service, request):
    """(model name, operation name, protocol) of a request, or None when it is not ours to check."""
    name = _MODELS.get(service)
    if name is None:
        return None
    model = _model(name)
    protocol = model.metadata["protocol"]
    if name == "cloudwatch":
        target = request.target
        if not target.startswith(_CLOUDWATCH_TARGET):
            return None  # CBOR: checked once translated to JSON
        return name, target[len(_CLOUDWATCH_TARGET):], "json"
    if protocol in ("query", "ec2"):
        action = request.form.get("Action") or _query_string(request).get("Action")
        return (name, action, protocol) if action else None
    if protocol == "json":
        target = request.target
        return (name, target.rsplit(".", 1)[-1], protocol) if target else None
    if protocol == "rest-xml":
        method = request.environ.get("REQUEST_METHOD", "GET")
        for route_method, regex, _, op_name in _rest_routes(name):
            if route_method == method and regex.match(request.path):
                return name, op_name, protocol
    return None


def _query_string(request):
    return dict(parse_qsl(request.environ.get("QUERY_STRING", "")))


def _parse(name, op_name, protocol, request):
    operation = _model(name).operation_model(op_name)
    method = request.environ.get("REQUEST_METHOD", "GET")
    if protocol in ("query", "ec2"):
        values = MultiDict(parse_qsl(request.body.decode(errors="replace"), keep_blank_values=True))
        values.update(MultiDict(parse_qsl(request.environ.get("QUERY_STRING", ""), keep_blank_values=True)))
    else:
        values = MultiDict(parse_qsl(request.environ.get("QUERY_STRING", ""), keep_blank_values=True))
    url_params = {}
    if protocol == "rest-xml":
        for route_method, regex, _, route_op in _rest_routes(name):
            match = regex.match(request.path) if route_op == op_name and route_method == method else None
            if match:
                url_params = {k: unquote(v) for k, v in match.groupdict().items()}
                break
    headers = Headers([(k[5:].replace("_", "-").title(), v) for k, v in request.environ.items() if k.startswith("HTTP_")])
    parser = PROTOCOL_PARSERS[protocol](operation)
    params = parser.parse(
        {
            "method": method,
            "values": values,
            "headers": headers,
            "body": request.body,
            "url_path": request.path,
            "url_params": url_params,
        }
    )
    return operation.input_shape, params


def violations(shape, value, path=""):
    """AWS's constraint messages for `value` against `shape`, in the order members are declared."""
    found = []
    if shape is None or value is None:
        return found
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            return found
        for member in meta.get("required", []):
            if value.get(member) is None:
                found.append((_join(path, member), None, "Member must not be null", "missing"))
        for member, member_shape in shape.members.items():
            if value.get(member) is not None:
                found.extend(violations(member_shape, value[member], _join(path, member)))
    elif kind == "list" and isinstance(value, list):
        found.extend(_range(path, value, len(value), meta, "length"))
        for i, item in enumerate(value):
            found.extend(violations(shape.member, item, f"{path}.{i + 1}.member"))
    elif kind == "map" and isinstance(value, dict):
        found.extend(_range(path, value, len(value), meta, "length"))
        for key, item in value.items():
            found.extend(violations(shape.value, item, f"{path}.{key}"))
    elif kind == "string" and isinstance(value, str):
        found.extend(_range(path, value, len(value), meta, "length"))
        enum = shape.enum
        if enum and value not in enum:
            found.append((path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]", "invalid"))
    elif kind in ("integer", "long", "double", "float") and isinstance(value, (int, float)) and not isinstance(value, bool):
        found.extend(_range(path, value, value, meta, "value"))
    return found


def _range(path, value, measure, meta, what):
    out = []
    if "min" in meta and measure < meta["min"]:
        out.append((path, value, f"Member must have {what} greater than or equal to {meta['min']}", "invalid"))
    if "max" in meta and measure > meta["max"]:
        out.append((path, value, f"Member must have {what} less than or equal to {meta['max']}", "invalid"))
    return out


def _join(path, member):
    return f"{path}.{member}" if path else member


def _lower_first(path):
    return ".".join(p[:1].lower() + p[1:] for p in path.split("."))


def _coral_message(found):
    parts = [
        f"Value {_shown(value)} at '{_lower_first(path)}' failed to satisfy constraint: {rule}"
        for path, value, rule, _ in found
    ]
    noun = "error" if len(parts) == 1 else "errors"
    return f"{len(parts)} validation {noun} detected: " + "; ".join(parts)


def _shown(value):
    if value is None:
        return "null"
    if isinstance(value, (list, dict)):
        return "'" + json.dumps(value, default=str)[:200] + "'"
    return f"'{value}'"


def _ec2_error(found):
    path, value, rule, kind = found[0]
    if kind == "missing":
        return "MissingParameter", f"The request must contain the parameter {path}"
    return "InvalidParameterValue", f"Value ({value}) for parameter {path} is invalid. {rule}"


def parsed(request, service=None):
    """(model name, operation, protocol, input shape, parameters) of `request` read as AWS reads
    it, or None when it is not a request of ours or cannot be read."""
    service = service or request.service
    try:
        op = _operation(service, request)
        if op is None:
            return None
        name, op_name, protocol = op
        shape, params = _parse(name, op_name, protocol, request)
    except (RequestParserError, KeyError, ValueError, TypeError, AttributeError):
        return None  # a request we cannot read the way AWS would: moto answers it
    except Exception as err:  # botocore's OperationNotFoundError and the like
        if type(err).__name__ in ("OperationNotFoundError",):
            return None
        raise
    return name, op_name, protocol, shape, params


def check(request, service=None):
    """The validation error AWS would answer `request` with, or None."""
    read = parsed(request, service)
    if read is None:
        return None
    name, _, protocol, shape, params = read
    service = service or request.service
    found = violations(shape, params)
    if not found:
        return None
    if protocol == "ec2":
        return ec2_error(*_ec2_error(found))
    if name == "cloudwatch":
        code = "MissingParameter" if found[0][3] == "missing" else "InvalidParameterValue"
        return json_error(code, _coral_message(found))
    if protocol == "query":
        return query_error(_QUERY_CODE.get(service, "ValidationError"), _coral_message(found))
    if protocol == "json":
        version = _model(name).metadata.get("jsonVersion", "1.0")
        return json_error("ValidationException", _coral_message(found), content_type=f"application/x-amz-json-{version}")
    if protocol == "rest-xml":
        return query_error("InvalidInput", _coral_message(found), xmlns="https://route53.amazonaws.com/doc/2013-04-01/")
    return None
