"""Route 53 as AWS runs it, where moto differs (moto-gaps.md §7): a record change, and a zone's
creation or deletion, is PENDING (for its scaled duration; see `pending.Settling`) before INSYNC, and every change has its own ID (moto returns one fixed ID);
GetChange on an unknown ID is NoSuchChange; a health check that a record still uses cannot be
deleted (HealthCheckInUse), and deleting one that does not exist is NoSuchHealthCheck (moto
succeeds both times)."""

import itertools
import threading

from moto.core.exceptions import ServiceException
from moto.route53.exceptions import NoSuchHealthCheck
from moto.route53.models import Route53Backend
from moto.route53.responses import Route53

from . import pending

_lock = threading.Lock()
_ids = itertools.count(1)
# change id -> pending.Settling
_pending = {}
_installed = False


class NoSuchChange(ServiceException):
    code = "NoSuchChange"


class HealthCheckInUse(ServiceException):
    code = "HealthCheckInUse"


def _bare(change_id):
    return change_id.rsplit("/", 1)[-1]


def install():
    global _installed
    if _installed:
        return
    _installed = True
    pending.on_change(_clamp)
    get_change, delete = Route53.get_change, Route53Backend.delete_health_check

    def pending_change(call):
        """A call that answers with a ChangeInfo: the change gets its own ID and pends."""

        def wrapped(self):
            result = call(self)
            with _lock:
                change_id = f"C{next(_ids):012X}"
                settling = _pending[change_id] = pending.Settling("route53.change")
                status = "PENDING" if settling.still_pending() else "INSYNC"
            info = result.result["ChangeInfo"]
            info["Id"] = f"/change/{change_id}"
            info["Status"] = status
            return result

        return wrapped

    def get_change_pending(self):
        change_id = _bare(self._get_param("Id"))
        with _lock:
            if change_id not in _pending:
                raise NoSuchChange(f"A change with the specified change ID does not exist: {change_id}")
            status = "PENDING" if _pending[change_id].pending() else "INSYNC"
        result = get_change(self)
        info = result.result["ChangeInfo"]
        info["Id"] = f"/change/{change_id}"
        info["Status"] = status
        return result

    def delete_health_check(self, health_check_id):
        if health_check_id not in self.health_checks:
            raise NoSuchHealthCheck(health_check_id)
        for zone in self.zones.values():
            for record in zone.rrsets:
                if record.health_check_id == health_check_id:
                    raise HealthCheckInUse(
                        f"Health check {health_check_id} is still referenced from "
                        f"{record.name} {record.type} ({record.set_identifier or 'simple'})."
                    )
        return delete(self, health_check_id)

    for name in ("change_resource_record_sets", "create_hosted_zone", "delete_hosted_zone"):
        setattr(Route53, name, pending_change(getattr(Route53, name)))
    Route53.get_change = get_change_pending
    Route53Backend.delete_health_check = delete_health_check


def _clamp(reads):
    with _lock:
        for settling in _pending.values():
            settling.clamp(reads)


def reset():
    with _lock:
        _pending.clear()
