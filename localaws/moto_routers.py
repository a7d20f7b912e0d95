"""moto builds the router of a REST service (Route 53 here) on the service's first request, and
that build races: moto's `ServiceModel.operation_model` and botocore's, which it wraps, share one
`instance_cache` key, so a thread building the router while another fills the cache can meet
botocore's OperationModel and fail with `AttributeError: 'OperationModel' object has no
attribute 'http_trait'` (an HTML 500). Two concurrent first Route 53 calls, as the provider
makes, hit it (a CI run's CreateHostedZone). Built once at start-up, before any thread serves,
the router is never built under load. This is a defect of the emulator, not an AWS behaviour."""

from moto.core.routing import get_service_router

# The services the provider calls over a REST protocol (the others are routed by their Action
# or X-Amz-Target, without a router).
REST_SERVICES = ("route53",)


def warm():
    for name in REST_SERVICES:
        router = get_service_router(name)
        router._get_router(router._service_model.protocol)
