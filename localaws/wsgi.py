"""Small WSGI plumbing for the fidelity layer: read a request, call the wrapped app, and build or
rewrite responses."""

import io
import json
import re
import threading
import uuid
import zlib
from urllib.parse import parse_qs
from dataclasses import dataclass, field

_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass
class Request:
    environ: dict
    body: bytes

    @classmethod
    def read(cls, environ):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        return cls(environ, body)

    def header(self, name):
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), "")

    @property
    def path(self):
        return self.environ.get("PATH_INFO", "")

    def _scope(self):
        return _SCOPE.search(self.header("Authorization")) or None

    @property
    def region(self):
        scope = self._scope()
        return scope.group(2) if scope else "us-east-1"

    @property
    def service(self):
        scope = self._scope()
        return scope.group(3) if scope else ""

    @property
    def access_key(self):
        scope = self._scope()
        return scope.group(1) if scope else ""

    @property
    def target(self):
        return self.header("X-Amz-Target")

    @property
    def form(self):
        """Parameters of a Query-protocol request (EC2, Auto Scaling, ELBv2, IAM)."""
        return {k: v[0] for k, v in parse_qs(self.body.decode(errors="replace")).items()}

    @property
    def action(self):
        """The Query-protocol `Action`, if any."""
        return self.form.get("Action")

    def json(self):
        return json.loads(self.body or b"{}")

    def environ_with(self, body, headers=None, path=None):
        """A copy of this request's environ with another body (and headers, path)."""
        env = dict(self.environ)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                env["CONTENT_TYPE"] = value
            env["HTTP_" + key] = value
        if path is not None:
            env["PATH_INFO"] = path
        return env


@dataclass
class Response:
    status: int
    headers: list = field(default_factory=list)
    body: bytes = b""

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return ""

    def json(self):
        return json.loads(self.body or b"{}")

    def with_json(self, data):
        """The same response with another JSON body. DynamoDB clients verify `x-amz-crc32`."""
        body = json.dumps(data, default=str).encode()
        headers = [(k, v) for k, v in self.headers if k.lower() not in ("content-length", "x-amz-crc32")]
        if self.header("x-amz-crc32"):
            headers.append(("x-amz-crc32", str(zlib.crc32(body))))
        return Response(self.status, headers, body)

    def send(self, start_response):
        reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}
        headers = [(k, v) for k, v in self.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(self.body))))
        start_response(f"{self.status} {reasons.get(self.status, 'Status')}", headers)
        return [self.body]


def call(app, environ):
    """Runs the wrapped WSGI app and captures its response."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = int(status.split(" ", 1)[0])
        captured["headers"] = list(headers)

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return Response(captured["status"], captured["headers"], body)


def ec2_error(code, message, status=400):
    """An error in EC2's wire format."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{code}</Code><Message>{xml_text(message)}</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()
    return Response(status, [("Content-Type", "text/xml")], body)


def query_error(code, message, status=400, xmlns=""):
    """An error in the wire format of the Query protocol (IAM, STS, Auto Scaling, ELBv2, SNS) and
    of Route 53's REST-XML: `<ErrorResponse><Error>…</Error><RequestId>…</RequestId>`."""
    namespace = f' xmlns="{xmlns}"' if xmlns else ""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse{namespace}><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{xml_text(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()
    return Response(status, [("Content-Type", "text/xml")], body)


def xml_text(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def json_error(code, message, status=400, content_type="application/x-amz-json-1.0"):
    body = json.dumps({"__type": code, "message": message}).encode()
    return Response(status, [("Content-Type", content_type)], body)


class Locked:
    """A re-entrant lock shared by the layer's state; the server is threaded."""

    lock = threading.RLock()
