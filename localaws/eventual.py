"""Eventual consistency of EC2 and ELB, which moto does not have: an ID that a create has just
returned is not yet known to the calls that name it.

"If you run a command to modify or describe the resource that you just created, its ID might not
have propagated throughout the system, and you will get an error responding that the resource does
not exist" (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html). ELB behaves
the same way (hashicorp/terraform-provider-aws retries `LoadBalancerNotFound` after CreateLoadBalancer
and waits for a new target group with RetryWhenNotFound).

`LOCALAWS_NEW_ID_MISSES=<n>` (0, off, by default; the test harness turns it on): the first n calls
that name a new ID within `LOCALAWS_NEW_ID_WINDOW_MS` (default 1000) of its create answer AWS's
NotFound error for it. Counting calls keeps the tests deterministic; the window keeps an ID that
nobody names at once from failing much later."""

import os
import re
import threading
import time

from .chaos import error as _error

MISSES = int(os.environ.get("LOCALAWS_NEW_ID_MISSES", "0") or 0)
WINDOW = float(os.environ.get("LOCALAWS_NEW_ID_WINDOW_MS", "1000") or 0) / 1000

# Create action -> (element of the response holding the new ID, kind of ID).
CREATES = {
    ("ec2", "CreateVpc"): ("vpcId", "vpc"),
    ("ec2", "CreateSubnet"): ("subnetId", "subnet"),
    ("ec2", "CreateInternetGateway"): ("internetGatewayId", "igw"),
    ("ec2", "CreateRouteTable"): ("routeTableId", "rtb"),
    ("ec2", "CreateSecurityGroup"): ("groupId", "sg"),
    ("elasticloadbalancing", "CreateLoadBalancer"): ("LoadBalancerArn", "alb"),
    ("elasticloadbalancing", "CreateTargetGroup"): ("TargetGroupArn", "tg"),
}

# AWS's error for an unknown ID of each kind.
NOT_FOUND = {
    "vpc": ("InvalidVpcID.NotFound", "The vpc ID '{id}' does not exist"),
    "subnet": ("InvalidSubnetID.NotFound", "The subnet ID '{id}' does not exist"),
    "igw": ("InvalidInternetGatewayID.NotFound", "The internetGateway ID '{id}' does not exist"),
    "rtb": ("InvalidRouteTableID.NotFound", "The routeTable ID '{id}' does not exist"),
    "sg": ("InvalidGroup.NotFound", "The security group '{id}' does not exist"),
    "alb": ("LoadBalancerNotFound", "One or more load balancers not found"),
    "tg": ("TargetGroupNotFound", "One or more target groups not found"),
}

# Calls that name an existing object (modify, attach, associate, authorize, describe by ID, tag):
# action -> parameters holding the ID (a trailing `.` matches every member of a list). Creates of
# other objects that merely refer to it (CreateSubnet's VpcId) and Filter values are left alone.
NAMING = {
    "ec2": {
        "ModifyVpcAttribute": ["VpcId"],
        "DescribeVpcAttribute": ["VpcId"],
        "DescribeVpcs": ["VpcId."],
        "ModifySubnetAttribute": ["SubnetId"],
        "DescribeSubnets": ["SubnetId."],
        "AttachInternetGateway": ["InternetGatewayId"],
        "DescribeInternetGateways": ["InternetGatewayId."],
        "CreateRoute": ["RouteTableId"],
        "ReplaceRoute": ["RouteTableId"],
        "AssociateRouteTable": ["RouteTableId"],
        "DescribeRouteTables": ["RouteTableId."],
        "AuthorizeSecurityGroupIngress": ["GroupId"],
        "AuthorizeSecurityGroupEgress": ["GroupId"],
        "RevokeSecurityGroupIngress": ["GroupId"],
        "RevokeSecurityGroupEgress": ["GroupId"],
        "DescribeSecurityGroups": ["GroupId."],
        "CreateTags": ["ResourceId."],
    },
    "elasticloadbalancing": {
        "SetSecurityGroups": ["LoadBalancerArn"],
        "SetSubnets": ["LoadBalancerArn"],
        "ModifyLoadBalancerAttributes": ["LoadBalancerArn"],
        "DescribeLoadBalancers": ["LoadBalancerArns.member."],
        "ModifyTargetGroup": ["TargetGroupArn"],
        "ModifyTargetGroupAttributes": ["TargetGroupArn"],
        "DescribeTargetGroups": ["TargetGroupArns.member."],
        "RegisterTargets": ["TargetGroupArn"],
        "AddTags": ["ResourceArns.member."],
        "DescribeTags": ["ResourceArns.member."],
    },
}

_lock = threading.Lock()
# new ID -> [kind, misses left, created at]
_new = {}


def reset():
    with _lock:
        _new.clear()


def _named(request):
    params = NAMING.get(request.service, {}).get(request.action)
    if not params:
        return []
    form = request.form
    return [
        value
        for key, value in form.items()
        if any(key == p or (p.endswith(".") and key.startswith(p)) for p in params)
    ]


def take(request):
    """AWS's NotFound answer if this call names an ID that has not propagated yet, else None."""
    if not MISSES or request.service not in NAMING:
        return None
    now = time.monotonic()
    with _lock:
        for value in _named(request):
            entry = _new.get(value)
            if entry is None:
                continue
            kind, left, created = entry
            if left <= 0 or now - created > WINDOW:
                del _new[value]
                continue
            entry[1] -= 1
            code, message = NOT_FOUND[kind]
            return _error(request, request.service, 400, code, message.format(id=value))
    return None


def record(request, response):
    """Remembers the ID a successful create returned."""
    if not MISSES or response.status >= 400:
        return
    created = CREATES.get((request.service, request.action))
    if created is None:
        return
    element, kind = created
    found = re.search(rf"<{element}>([^<]+)</{element}>", response.body.decode(errors="replace"))
    if found:
        with _lock:
            _new[found.group(1)] = [kind, MISSES, time.monotonic()]
