"""Record changes as Route 53 applies them, where moto differs:

- a record of a routing policy is one record set per name, type and SetIdentifier: DELETE removes
  that one ("Name", "Type" and "SetIdentifier" identify the record set to delete,
  API_ResourceRecordSet), where moto removes every record of the zone with that SetIdentifier,
  whatever its name;
- an alias to another record of the same zone needs that record, of the alias's type, to exist
  when its change is applied, earlier in the same batch counting ("InvalidChangeBatch: [Tried to
  create an alias that targets <name>., type A in zone <id>, but that target was not found]", as
  AWS answers it in public reports: cli53#227, and DNSControl#937 where creating the target first
  in the same batch succeeds), and a name inside the zone ("... but the alias target name does
  not lie within the target zone"). moto accepts either.

https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html
https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html ("Another Route 53
record: ... the name of the record in this hosted zone that you want to route traffic to")"""

import threading

from moto.route53.exceptions import Route53ClientError
from moto.route53.models import FakeZone, Route53Backend

_installed = False
# The (name, type) of each DELETE with a SetIdentifier of the batch being applied, in order:
# moto calls `delete_rrset_by_id` with the identifier alone.
_deletes = threading.local()


class InvalidChangeBatch(Route53ClientError):
    def __init__(self, message):
        super().__init__("InvalidChangeBatch", f"[{message}]")


def _name(name):
    return str(name or "").rstrip(".").lower()


def _bare(zone_id):
    return str(zone_id or "").rsplit("/", 1)[-1]


def _in_zone(name, zone):
    zone_name = _name(zone.name)
    return name == zone_name or name.endswith("." + zone_name)


def _check_aliases(zone, changes):
    """Applies the batch's changes in order to the zone's (name, type, identifier) keys and
    refuses an alias to a record of this zone that is not there when its change comes."""
    held = {(_name(r.name), r.type, r.set_identifier) for r in zone.rrsets}
    for change in changes:
        record = change["ResourceRecordSet"]
        key = (_name(record["Name"]), record.get("Type"), record.get("SetIdentifier"))
        if change["Action"] == "DELETE":
            held.discard(key)
            continue
        alias = record.get("AliasTarget") or {}
        if _bare(alias.get("HostedZoneId")) == _bare(zone.id):
            target, kind = _name(alias.get("DNSName")), record.get("Type")
            prefix = f"Tried to create an alias that targets {target}., type {kind} in zone {_bare(zone.id)}, but"
            if not _in_zone(target, zone):
                raise InvalidChangeBatch(f"{prefix} the alias target name does not lie within the target zone")
            if not any(name == target and t == kind for name, t, _ in held):
                raise InvalidChangeBatch(f"{prefix} that target was not found")
        held.add(key)


def install():
    global _installed
    if _installed:
        return
    _installed = True
    change = Route53Backend.change_resource_record_sets

    def change_resource_record_sets(self, zoneid, change_list):
        zone = self.get_hosted_zone(zoneid)
        _check_aliases(zone, change_list)
        _deletes.queue = [
            (_name(c["ResourceRecordSet"]["Name"]), c["ResourceRecordSet"].get("Type"))
            for c in change_list
            if c["Action"] == "DELETE" and "SetIdentifier" in c["ResourceRecordSet"]
        ]
        try:
            return change(self, zoneid, change_list)
        finally:
            _deletes.queue = []

    def delete_rrset_by_id(self, set_identifier):
        queue = getattr(_deletes, "queue", None)
        name, kind = queue.pop(0) if queue else (None, None)
        self.rrsets = [
            r
            for r in self.rrsets
            if r.set_identifier != set_identifier
            or (name is not None and (_name(r.name) != name or r.type != kind))
        ]

    Route53Backend.change_resource_record_sets = change_resource_record_sets
    FakeZone.delete_rrset_by_id = delete_rrset_by_id
