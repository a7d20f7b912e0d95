"""Route 53 as AWS runs it, where moto differs (moto-gaps.md §7): a record change, and a zone's
creation or deletion, is PENDING (for its scaled duration; see `pending.Settling`) before INSYNC, and every change has its own ID (moto returns one fixed ID);
GetChange on an unknown ID is NoSuchChange; a health check that a record still uses cannot be
deleted (HealthCheckInUse), and deleting one that does not exist is NoSuchHealthCheck (moto
succeeds both times).

Route 53's name servers answer from a record change only once it is INSYNC: "PENDING indicates
that the changes in this request have not propagated to all Amazon Route 53 DNS servers managing
the hosted zone" (API_ChangeInfo). While it is PENDING, `served` gives the zone's records as they
were before it (the latest moment every name server agrees on), so a client waits out the
propagation a planned failover really waits for; moto answered from the new records at once."""

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
# zone id -> [(pending.Settling, the zone's records before that change)], oldest first
_before = {}
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

    def pending_change(call, records):
        """A call that answers with a ChangeInfo: the change gets its own ID and pends; a change
        of `records` keeps the zone's records as they were for `served`."""

        def wrapped(self):
            zone_id = _bare(self._get_param("HostedZoneId")) if records else None
            before = _records(self.backend, zone_id) if records else None
            result = call(self)
            with _lock:
                change_id = f"C{next(_ids):012X}"
                settling = _pending[change_id] = pending.Settling("route53.change")
                status = "PENDING" if settling.still_pending() else "INSYNC"
                if before is not None and settling.still_pending():
                    waiting = _before.setdefault(zone_id, [])
                    # What has propagated is no longer served from: only the pending are kept.
                    waiting[:] = [w for w in waiting if w[0].still_pending()]
                    waiting.append((settling, before))
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
        setattr(Route53, name, pending_change(getattr(Route53, name), name == "change_resource_record_sets"))
    Route53.get_change = get_change_pending
    Route53Backend.delete_health_check = delete_health_check


def _records(backend, zone_id):
    """The zone's record sets as they are now (moto replaces a changed record set, so the list
    keeps them), or None when there is no such zone."""
    zone = backend.zones.get(zone_id)
    return list(zone.rrsets) if zone is not None else None


def served(zone):
    """The record sets the zone's name servers answer from: as they were before its oldest change
    that is still PENDING, else as they are. Each call is one read of that change (the
    read-counting mode of `pending`)."""
    with _lock:
        waiting = _before.get(_bare(zone.id), [])
        while waiting and not waiting[0][0].pending():
            waiting.pop(0)
        return waiting[0][1] if waiting else zone.rrsets


def _clamp(reads):
    with _lock:
        for settling in _pending.values():
            settling.clamp(reads)


def reset():
    with _lock:
        _pending.clear()
        _before.clear()
