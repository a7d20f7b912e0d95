"""IAM policy evaluation for callers that are IAM users (`LOCALAWS_IAM_ENFORCE=1`): a request
signed with an IAM user's access key is allowed only if one of the user's policies (inline,
attached, or through its groups) allows the request's action on its resource and none denies it
(IAM User Guide, "Policy evaluation logic":
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
Keys of no IAM user (the tests' own `testing` key) act as the account's administrator, so a test
can bootstrap users and read what AWS holds.

moto's own enforcement (`INITIAL_NO_AUTH_ACTION_COUNT`) checks the action only for most services:
it evaluates every request against the resource `*`, so a statement scoped to ARNs never matches,
and it never sees the requests this layer answers itself (CloudWatch over CBOR, Auto Scaling
launches). Here the resource is the request's ARN where it follows from the request (IAM roles and
instance profiles, DynamoDB tables, SNS topics, CloudWatch alarms, ELB load balancers, target
groups and listeners, Auto Scaling groups, ACM certificates), matched as IAM matches `Resource` (wildcards `*` and
`?`); for EC2, KMS and Route 53 the resource is not known and only the action is checked.
Conditions are not evaluated (a statement applies as if its conditions held), nor is
`iam:PassRole` (AWS checks it when Auto Scaling launches). See RULES.md.

A refusal is each service's own (IAM User Guide, "Troubleshoot access denied error messages":
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html): EC2
`UnauthorizedOperation` with an encoded message that does not name the action
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html); SNS
`AuthorizationError`; DynamoDB and KMS `AccessDeniedException`; the others `AccessDenied`, "User:
<arn> is not authorized to perform: <action> on resource: <arn> because no identity-based policy
allows the <action> action"."""

import base64
import fnmatch
import os

from moto.iam.access_control import CreateAccessKeyFailure, IAMPolicy, IAMUserAccessKey

from . import chaos, cloudwatch_cbor, request_validation

ENABLED = os.environ.get("LOCALAWS_IAM_ENFORCE") == "1"

# SigV4 signing name -> IAM action prefix, where they differ.
_PREFIX = {"monitoring": "cloudwatch"}
_CODE = {"ec2": "UnauthorizedOperation", "sns": "AuthorizationError", "dynamodb": "AccessDeniedException", "kms": "AccessDeniedException", "acm": "AccessDeniedException"}
_STATUS = {"dynamodb": 400, "kms": 400, "acm": 400}


def take(request, account):
    """The refusal of a request the caller's policies do not allow, or None."""
    if not ENABLED or request.path.startswith(("/moto-api", "/localaws")):
        return None
    try:
        caller = IAMUserAccessKey(account_id=account, partition="aws", access_key_id=request.access_key, headers={})
    except CreateAccessKeyFailure:
        return None  # not an IAM user's key: the account's administrator
    read = _operation(request)
    if read is None:
        return None
    operation, params = read
    action = f"{_PREFIX.get(request.service, request.service)}:{operation}"
    if action == "sts:GetCallerIdentity":
        return None  # "No permissions are required to perform this operation" (its API reference)
    documents = [IAMPolicy(p)._policy_json for p in caller.collect_policies()]
    for resource in _resources(request.service, operation, params or {}, request.region, account) or ["*"]:
        if not allowed(documents, action, resource):
            return _refusal(request, caller.arn, action, resource)
    return None


def allowed(documents, action, resource):
    """IAM's decision for one action on one resource: an explicit deny wins, else an allow."""
    decision = False
    for document in documents:
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if not _applies(statement, action, resource):
                continue
            if statement.get("Effect") == "Deny":
                return False
            decision = True
    return decision


def _applies(statement, action, resource):
    if "Action" in statement:
        acts = _any(statement["Action"], action, case=False)
    else:
        acts = not _any(statement.get("NotAction", []), action, case=False)
    if not acts:
        return False
    if resource == "*":
        return True  # the resource is not known here: the action decides
    if "Resource" in statement:
        return _any(statement["Resource"], resource, case=True)
    return not _any(statement.get("NotResource", []), resource, case=True)


def _any(patterns, value, case):
    patterns = patterns if isinstance(patterns, list) else [patterns]
    match = fnmatch.fnmatchcase if case else (lambda v, p: fnmatch.fnmatchcase(v.lower(), p.lower()))
    # IAM's wildcards are `*` and `?` only: `[` is literal.
    return any(match(value, p.replace("[", "[[]")) for p in patterns)


def _operation(request):
    if cloudwatch_cbor.handles(request):
        return request.path[len(cloudwatch_cbor.PREFIX):], cloudwatch_cbor.params(request)
    read = request_validation.parsed(request)
    return (read[1], read[4]) if read else None


def _resources(service, operation, params, region, account):
    """The ARNs the request acts on, where they follow from it; None where they do not (reads
    without resource-level permissions, and the services this layer does not resolve)."""
    if operation.startswith(("Describe", "List")) and service in ("elasticloadbalancing", "autoscaling"):
        return None
    if service == "iam":
        if params.get("InstanceProfileName"):
            return [f"arn:aws:iam::{account}:instance-profile/{params['InstanceProfileName']}"]
        if params.get("RoleName"):
            return [f"arn:aws:iam::{account}:role/{params['RoleName']}"]
    if service == "dynamodb":
        name = params.get("TableName") or params.get("ResourceArn")
        if name:
            return [name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"]
    if service == "sns":
        if operation == "CreateTopic":
            return [f"arn:aws:sns:{region}:{account}:{params.get('Name')}"]
        arn = params.get("TopicArn") or params.get("ResourceArn") or params.get("SubscriptionArn")
        if arn:
            return [":".join(arn.split(":")[:6])]  # a subscription's ARN is its topic's and an ID
    if service == "monitoring":
        names = params.get("AlarmNames") or ([params["AlarmName"]] if params.get("AlarmName") else [])
        arns = [f"arn:aws:cloudwatch:{region}:{account}:alarm:{n}" for n in names]
        return arns or ([params["ResourceARN"]] if params.get("ResourceARN") else None)
    if service == "elasticloadbalancing":
        if operation == "CreateLoadBalancer":
            return [f"arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{params.get('Name')}/new"]
        if operation == "CreateTargetGroup":
            return [f"arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{params.get('Name')}/new"]
        arn = params.get("ListenerArn") or params.get("TargetGroupArn") or params.get("LoadBalancerArn")
        return [arn] if arn else params.get("ResourceArns")
    if service == "acm" and params.get("CertificateArn"):
        return [params["CertificateArn"]]
    if service == "autoscaling":
        names = [t.get("ResourceId") for t in params.get("Tags", []) if t.get("ResourceId")]
        names = names or ([params["AutoScalingGroupName"]] if params.get("AutoScalingGroupName") else [])
        return [f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:new:autoScalingGroupName/{n}" for n in names] or None
    return None


def _refusal(request, user, action, resource):
    service = request.service
    if service == "ec2":
        encoded = base64.b64encode(f"{user} {action} {resource}".encode()).decode()
        message = f"You are not authorized to perform this operation. Encoded authorization failure message: {encoded}"
    else:
        shown = action.replace("sns:", "SNS:") if service == "sns" else action
        message = f"User: {user} is not authorized to perform: {shown} on resource: {resource} because no identity-based policy allows the {shown} action"
    return chaos.error(request, service, _STATUS.get(service, 403), _CODE.get(service, "AccessDenied"), message)

