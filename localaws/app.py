"""The emulator: moto's server application behind the fidelity layer."""

from moto.iam.models import get_account_id_from
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from . import (
    acm_certificates,
    async_states,
    autoscaling_capacity,
    autoscaling_launches,
    autoscaling_refresh,
    chaos,
    cloudwatch_alarms,
    cloudwatch_evaluation,
    cloudwatch_cbor,
    crash,
    disabled_regions,
    dynamodb_mrsc,
    dynamodb_replicas,
    dynamodb_tables,
    ec2_dependencies,
    ec2_architectures,
    ec2_filters,
    ec2_instance_offerings,
    ec2_launch_templates,
    ec2_prefix_lists,
    ec2_routes,
    elb_traffic,
    elbv2_health,
    elbv2_idempotency,
    elbv2_validation,
    eventual,
    expired_tokens,
    faults,
    iam_policies,
    iam_profiles,
    iam_propagation,
    idempotency,
    kms_keys,
    lost,
    meter,
    moto_lookups,
    moto_operation_models,
    pending,
    query_errors,
    region_outage,
    request_validation,
    route53_answers,
    route53_changes,
    route53_alarm_checks,
    route53_health,
    route53_metrics,
    route53_records,
    route53_routing_controls,
    route53_zones,
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
        counted = meter.count(request)
        unreachable = region_outage.take(request)
        if unreachable:
            meter.done(counted)
            return unreachable.send(start_response)
        response = eventual.take(request) or self.dispatch(request)
        eventual.record(request, response)
        response = lost.after(request, response)
        cloudwatch_evaluation.evaluate()
        route53_health.observe()
        route53_metrics.publish()
        elb_traffic.publish()
        crash.after(request)
        meter.done(counted)
        return response.send(start_response)

    def dispatch(self, request):
        if request.path == "/moto-api/reset":
            acm_certificates.reset()
            dynamodb_replicas.reset()
            autoscaling_launches.reset()
            autoscaling_refresh.reset()
            dynamodb_tables.reset()
            eventual.reset()
            async_states.reset()
            idempotency.reset()
            iam_propagation.reset()
            route53_changes.reset()
            route53_zones.reset()
            chaos.reset()
            cloudwatch_alarms.reset()
            cloudwatch_evaluation.reset()
            crash.reset()
            lost.reset()
            meter.reset()
            pending.reset()
            elbv2_health.reset()
            elbv2_idempotency.reset()
            route53_health.reset()
            route53_metrics.reset()
            elb_traffic.reset()
            expired_tokens.reset()
            region_outage.reset()
            disabled_regions.reset()
        if request.path == "/localaws/fail-once":
            return faults.arm(request)
        if request.path.startswith("/localaws/faults"):
            return chaos.control(request.path)
        if request.path == "/localaws/lost":
            return lost.report()
        if request.path.startswith("/localaws/outage"):
            return region_outage.control(request.path)
        if request.path.startswith("/localaws/disabled"):
            return disabled_regions.control(request.path)
        if request.path == "/localaws/routing-control":
            return route53_routing_controls.control(request)
        if request.path == "/localaws/dns-answer":
            return route53_answers.control(request)
        if request.path.startswith("/localaws/traffic"):
            return elb_traffic.control(request)
        if request.path in ("/localaws/requests", "/localaws/requests/log",
                            "/localaws/requests/cpu"):
            return meter.report(request.path)
        if request.path.startswith("/localaws/pending"):
            return pending.control(request.path)
        if request.path.startswith("/localaws/acm/"):
            return acm_certificates.control(request.path)
        if request.path.startswith("/localaws/crash"):
            return crash.control(request.path)
        if request.path == "/localaws/drained":
            return async_states.drained()
        if request.path == "/localaws/clock":
            return pending.clock()
        if request.path.startswith(("/localaws/elb/", "/localaws/resolve/")):
            return elbv2_health.control(request.path)
        if request.path.startswith("/localaws/expire/"):
            return expired_tokens.control(request.path)
        if request.path.startswith(("/localaws/sns/confirm/", "/localaws/sns/published/")):
            return sns_topics.control(request.path)
        refused = (
            disabled_regions.take(request)
            or expired_tokens.take(request)
            or iam_policies.take(request, account_of(request))
        )
        if refused:
            return refused
        injected = chaos.take(request) or faults.take(request)
        if injected:
            return injected
        refused = (
            request_validation.check(request)
            or autoscaling_capacity.refusal(request, account_of(request))
            or iam_propagation.refusal(request, account_of(request))
            or ec2_instance_offerings.refusal(request, account_of(request))
            or ec2_architectures.refusal(request, account_of(request))
        )
        if refused:
            return refused
        if route53_answers.handles(request):
            return route53_answers.handle(request, account_of(request))
        if cloudwatch_alarms.handles(request):
            return cloudwatch_alarms.handle(request, account_of(request))
        if cloudwatch_cbor.handles(request):
            return cloudwatch_cbor.handle(self.app, request)
        if ec2_launch_templates.handles(request):
            return ec2_launch_templates.handle(self.app, request, account_of(request))
        if idempotency.handles(request):
            return idempotency.handle(self.app, request, account_of(request))
        if autoscaling_refresh.handles(request):
            return autoscaling_refresh.handle(request, account_of(request))
        if autoscaling_launches.handles(request):
            return autoscaling_launches.handle(request, account_of(request))
        if ec2_dependencies.handles(request):
            return ec2_dependencies.handle(self.app, request, account_of(request))
        if elbv2_validation.handles(request):
            return elbv2_validation.handle(self.app, request, account_of(request))
        if elbv2_idempotency.handles(request):
            return elbv2_idempotency.handle(self.app, request, account_of(request))
        if dynamodb_mrsc.handles(request, account_of(request)):
            return dynamodb_mrsc.handle(self.app, request, account_of(request))
        if dynamodb_replicas.handles(request):
            return dynamodb_replicas.handle(self.app, request, account_of(request))
        return query_errors.fix(request, call(self.app, request.environ))


def account_of(request):
    moto_header = request.header("x-moto-account-id")
    return moto_header or get_account_id_from(request.access_key)


def build():
    moto_operation_models.install()
    acm_certificates.install()
    async_states.install()
    autoscaling_launches.install()
    cloudwatch_alarms.install()
    cloudwatch_evaluation.install()
    dynamodb_tables.install()
    iam_profiles.install()
    iam_propagation.install()
    ec2_filters.install()
    ec2_prefix_lists.install()
    ec2_routes.install()
    elbv2_health.install()
    kms_keys.install()
    route53_changes.install()
    route53_health.install()
    route53_records.install()
    route53_alarm_checks.install()
    route53_routing_controls.install()
    route53_zones.install()
    sns_topics.install()
    moto_lookups.install()
    return Fidelity(DomainDispatcherApplication(create_backend_app))
