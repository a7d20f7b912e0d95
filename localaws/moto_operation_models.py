"""moto's `ServiceModel.operation_model` and botocore's, which it wraps, are both cached with
`instance_cache` under the same key, so for a moment the cache holds botocore's OperationModel
where moto's belongs. A thread reading then (two first Route 53 calls at once, as the provider
makes them, while moto builds its REST router) fails with `AttributeError: 'OperationModel'
object has no attribute 'http_trait'`, an HTML 500 (seen in CI on ListHostedZones). Filling the
cache under one lock keeps that moment from every reader, for every service. A defect of the
emulator, not an AWS behaviour."""

import threading

from moto.core.model import ServiceModel

_lock = threading.RLock()
_installed = False


def install():
    global _installed
    if _installed:
        return
    _installed = True
    cached = ServiceModel.operation_model

    def operation_model(self, operation_name):
        with _lock:
            return cached(self, operation_name)

    ServiceModel.operation_model = operation_model
