"""ELBv2's creates are idempotent by their settings, and refuse a name or port taken with other
settings; moto makes a second load balancer or listener, and refuses a repeated target group. "This
operation is idempotent, which means that it completes at most one time. If you attempt to create
multiple load balancers with the same settings, each call succeeds"
(https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html;
the same sentence for target groups in API_CreateTargetGroup.html and listeners in
API_CreateListener.html). A repeat of a call that made an object which still exists answers with
that object; the same name (or listener port) with other settings stays refused
(`DuplicateLoadBalancerName`, `DuplicateTargetGroupName`, `DuplicateListener`)."""

import threading

from moto.elbv2.models import elbv2_backends

from .wsgi import call, query_error

XMLNS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

ACTIONS = {
    "CreateLoadBalancer": "LoadBalancerArn",
    "CreateTargetGroup": "TargetGroupArn",
    "CreateListener": "ListenerArn",
}
_lock = threading.Lock()
_answers = {}


def handles(request):
    return request.service == "elasticloadbalancing" and request.action in ACTIONS


def handle(app, request, account):
    key = (account, request.region, tuple(sorted(request.form.items())))
    with _lock:
        first = _answers.get(key)
    if first is not None and _exists(account, request.region, request.action, first):
        return first
    clash = _clash(account, request.region, request.action, request.form)
    if clash:
        return clash
    answer = call(app, request.environ)
    if answer.status < 400:
        with _lock:
            _answers[key] = answer
    return answer


def _clash(account, region, action, form):
    """AWS's refusal of a name or port already taken with other settings (moto keys load
    balancers and listeners by ARN and never refuses them; it refuses target groups itself)."""
    backend = elbv2_backends[account][region]
    if action == "CreateLoadBalancer":
        name = form.get("Name")
        if any(lb.name == name for lb in backend.load_balancers.values()):
            return query_error("DuplicateLoadBalancerName", "A load balancer with the same name exists", xmlns=XMLNS)
    if action == "CreateListener":
        balancer = backend.load_balancers.get(form.get("LoadBalancerArn"))
        port = form.get("Port")
        if balancer is not None and any(str(l.port) == port for l in balancer.listeners.values()):
            return query_error("DuplicateListener", "A listener already exists on this port for this load balancer", xmlns=XMLNS)
    return None


def _exists(account, region, action, answer):
    """Whether the object a cached answer names still exists."""
    body = answer.body.decode(errors="replace")
    tag = ACTIONS[action]
    start = body.find(f"<{tag}>")
    if start < 0:
        return False
    arn = body[start + len(tag) + 2 : body.find(f"</{tag}>", start)]
    backend = elbv2_backends[account][region]
    if action == "CreateLoadBalancer":
        return arn in backend.load_balancers
    if action == "CreateTargetGroup":
        return arn in backend.target_groups
    return any(arn in lb.listeners for lb in backend.load_balancers.values())


def reset():
    with _lock:
        _answers.clear()
