"""The emulator: moto's server application behind the fidelity layer."""

from moto.iam.models import get_account_id_from
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from . import (
    async_states,
    autoscaling_refresh,
    chaos,
    cloudwatch_alarms,
    cloudwatch_cbor,
    crash,
    dynamodb_replicas,
    dynamodb_tables,
    ec2_dependencies,
    ec2_launch_templates,
    ec2_routes,
    faults,
    idempotency,
    meter,
    pending,
    route53_changes,
    sns_topics,
)
from .wsgi import Request, call


class Fidelity:
    """WSGI middleware: requests moto gets wrong are handled here, the rest pass through."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        request = Request.read(environ)
        environ = request.environ_with(request.body)
        request = Request(environ, request.body)
        meter.count(request)
        response = self.dispatch(request)
        crash.after(request)
        return response.send(start_response)

    def dispatch(self, request):
        if request.path == "/moto-api/reset":
            dynamodb_replicas.reset()
            dynamodb_tables.reset()
            async_states.reset()
            idempotency.reset()
            route53_changes.reset()
            chaos.reset()
            crash.reset()
            meter.reset()
        if request.path.startswith("/localaws/faults"):
            return chaos.control(request.path)
        if request.path == "/localaws/requests":
            return meter.report()
        if request.path.startswith("/localaws/pending"):
            return pending.control(request.path)
        if request.path.startswith("/localaws/crash"):
            return crash.control(request.path)
        if request.path.startswith("/localaws/sns/confirm/"):
            return sns_topics.control(request.path)
        injected = chaos.take(request) or faults.take(request)
        if injected:
            return injected
        if cloudwatch_cbor.handles(request):
            return cloudwatch_cbor.handle(self.app, request)
        if ec2_launch_templates.handles(request):
            return ec2_launch_templates.handle(self.app, request, account_of(request))
        if idempotency.handles(request):
            return idempotency.handle(self.app, request, account_of(request))
        if autoscaling_refresh.handles(request):
            return autoscaling_refresh.handle(request, account_of(request))
        if ec2_dependencies.handles(request):
            return ec2_dependencies.handle(self.app, request, account_of(request))
        if dynamodb_replicas.handles(request):
            return dynamodb_replicas.handle(self.app, request, account_of(request))
        return call(self.app, request.environ)


def account_of(request):
    moto_header = request.header("x-moto-account-id")
    return moto_header or get_account_id_from(request.access_key)


def build():
    async_states.install()
    cloudwatch_alarms.install()
    dynamodb_tables.install()
    ec2_routes.install()
    route53_changes.install()
    sns_topics.install()
    return Fidelity(DomainDispatcherApplication(create_backend_app))
