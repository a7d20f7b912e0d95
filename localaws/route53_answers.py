"""TestDNSAnswer (moto: not implemented, 404): what Route 53's name servers answer for a record,
from the records and the health Route 53 acts on (`route53_health`, `elbv2_health`).

How a record of a weighted group is chosen, after "How Amazon Route 53 chooses records when
health checking is configured"
(https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records.html):
- by weight among the healthy records ("weight for a specified record / sum of the weights for
  all records", https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-weighted.html;
  all weights 0: each record equally);
- a record is healthy when its health check (if any) is, and, for an alias record that evaluates
  target health, when its target is ("an alias resource record set inherits the health of the
  referenced AWS resource", API_AliasTarget; a load balancer by `elbv2_health.healthy`); an alias
  record with both needs both ("both of the following must be true", dns-failover-complex-configs,
  "What happens when you associate a health check with an alias record?"); a
  record without either is always healthy ("Records without a health check are always
  healthy");
- "Route 53 initially considers only the nonzero weighted records, if any. If all the records
  that have a weight greater than 0 are unhealthy, then Route 53 considers the zero-weighted
  records";
- "If no record is healthy, all records are healthy": with every record unhealthy Route 53
  answers as if all were healthy (fail open);
- a failover group answers with its primary while that is healthy, else with its secondary
  (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-types.html);
- an alias to another name of the same zone answers as that name's records do, and, evaluating
  target health, is healthy while one of them is: Route 53 walks the tree of aliases and "backs
  out of that branch" only when it finds no healthy record there
  (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-complex-configs.html).
An alias record to a load balancer answers with the load balancer's addresses
(`elbv2_health.addresses`). A name the zone does not hold is NXDOMAIN; a name it holds with no
record of the type is NOERROR with no data. Each answer counts as one read of a health check's
change under way (the read-counting mode of `pending`)."""

import json
import random
import uuid
from urllib.parse import parse_qs

from moto.core import DEFAULT_ACCOUNT_ID
from moto.route53.exceptions import NoSuchHostedZone
from moto.route53.models import route53_backends

from . import elbv2_health, route53_changes, route53_health
from .wsgi import Locked, Response, query_error, xml_text

PATH = "/2013-04-01/testdnsanswer"
XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/"


def handles(request):
    return request.path.rstrip("/") == PATH and request.environ.get("REQUEST_METHOD") == "GET"


def _name(name):
    return str(name or "").rstrip(".").lower()


def _true(value):
    return str(value).lower() == "true"


def _weight(record):
    return int(record.weight or 0)


def _balancer(alias):
    dns = _name(alias.get("DNSName"))
    return elbv2_health.find(dns.removeprefix("dualstack."))


# Aliases within a zone nest; Route 53 refuses a loop, so a deeper chain is one.
_DEPTH = 8


def _bare(zone_id):
    return str(zone_id or "").rsplit("/", 1)[-1]


def _group(zone, name, kind):
    return [r for r in route53_changes.served(zone) if _name(r.name) == name and r.type == kind]


def _nested(zone, record):
    """The name of this zone a record aliases, or None (a load balancer, or no alias)."""
    alias = record.alias_target
    if alias and _bare(alias.get("HostedZoneId")) == _bare(zone.id):
        return _name(alias.get("DNSName"))
    return None


def _healthy(zone, record, depth=0):
    # Both are read, whatever the first says: each answer is one read of each.
    checked = not record.health_check_id or route53_health.healthy(record.health_check_id, read=True)
    alias = record.alias_target
    if alias and _true(alias.get("EvaluateTargetHealth")):
        nested = _nested(zone, record)
        if nested is not None:
            # A group of records is healthy while one of them is: Route 53 backs out of a branch
            # only when it finds no healthy record there (dns-failover-complex-configs).
            group = _group(zone, nested, record.type) if depth < _DEPTH else []
            target = any([_healthy(zone, r, depth + 1) for r in group])
        else:
            account, region, balancer = _balancer(alias)
            target = balancer is not None and elbv2_health.healthy(account, region, balancer, read=True)
        return checked and target
    return checked


def _shares(zone, records, depth=0):
    """[(record, share of the answers)] Route 53 answers with, from records of one name and
    type: a failover group's primary while it is healthy, else its secondary while that is
    (neither: the primary); a weighted group's records by weight over the pool's (all weights
    0: equal shares)."""
    failover = sorted((r for r in records if r.failover), key=lambda r: r.failover != "PRIMARY")
    if failover:
        up = [r for r in failover if _healthy(zone, r, depth)]
        return [((up or failover)[0], 1.0)]
    weighted = [r for r in records if r.set_identifier is not None and r.weight is not None]
    if not weighted:
        return [(records[0], 1.0)]
    up = [r for r in weighted if _healthy(zone, r, depth)]
    pool = (
        [r for r in up if _weight(r) > 0]
        or up
        or [r for r in weighted if _weight(r) > 0]
        or weighted
    )
    total = sum(_weight(r) for r in pool)
    return [(r, _weight(r) / total if total else 1 / len(pool)) for r in pool]


def _leaves(zone, records, share, depth):
    """[(record, share)] of the records that answer, through aliases to this zone's names."""
    found = []
    if not records or depth > _DEPTH:
        return found
    for record, part in _shares(zone, records, depth):
        nested = _nested(zone, record)
        if nested is None:
            found.append((record, share * part))
        else:
            found.extend(_leaves(zone, _group(zone, nested, record.type), share * part, depth + 1))
    return found


def _zone_of(account, name):
    """The public zone that holds the name (the account's zone whose name is the longest suffix
    of it), as resolvers on the internet find it."""
    backend = route53_backends[account]["aws"]
    zones = [
        z
        for z in list(backend.zones.values())
        if not z.private_zone and (name == _name(z.name) or name.endswith("." + _name(z.name)))
    ]
    return max(zones, key=lambda z: len(_name(z.name))) if zones else None


def answered(account, name, kind):
    """[(record, share of the answers)] of `name` and `kind`, each record one that answers with
    its own data (an alias to another name of the zone is followed to the records there)."""
    name = _name(name)
    zone = _zone_of(account, name)
    return _leaves(zone, _group(zone, name, str(kind).upper()), 1.0, 0) if zone else []


def reachable(account, name, kind):
    """Every record `name` and `kind` may answer with, whatever their health: through aliases
    to other names of its zone."""
    name = _name(name)
    zone = _zone_of(account, name)
    if zone is None:
        return []
    found, names = [], [(name, 0)]
    while names:
        current, depth = names.pop()
        for record in _group(zone, current, str(kind).upper()):
            nested = _nested(zone, record)
            if nested is None:
                found.append(record)
            elif depth < _DEPTH:
                names.append((nested, depth + 1))
    return found


def balancer_of(record):
    """(account, region, balancer) an alias record names, or Nones."""
    return _balancer(record.alias_target) if record.alias_target else (None, None, None)


def _values(zone, records):
    if not records:
        return []
    pool, weights = zip(*_leaves(zone, records, 1.0, 0))
    record = random.choices(pool, weights)[0]
    if record.alias_target:
        _, _, balancer = _balancer(record.alias_target)
        return elbv2_health.addresses(balancer) if balancer is not None else []
    return [r["Value"] if isinstance(r, dict) else str(r) for r in record.records or []]


def answer(account, zone_id, name, kind):
    """(name server, record data, response code) of the zone's name servers for `name` and
    `kind`, or None when there is no such zone."""
    name, kind = _name(name), str(kind or "").upper()
    with Locked.lock:
        backend = route53_backends[account]["aws"]
        try:
            zone = backend.get_hosted_zone(zone_id)
        except NoSuchHostedZone:
            return None
        records = route53_changes.served(zone)
        named = [r for r in records if _name(r.name) == name]
        data = _values(zone, [r for r in named if r.type == kind])
        servers = next((r.records for r in records if r.type == "NS" and _name(r.name) == _name(zone.name)), [])
    return (servers[0] if servers else "ns-0.awsdns-00.com"), data, ("NOERROR" if named else "NXDOMAIN")


def _query(request):
    return {k.lower(): v[0] for k, v in parse_qs(request.environ.get("QUERY_STRING", "")).items()}


def control(request):
    """`/localaws/dns-answer?hostedzoneid=&recordname=&recordtype=[&account=]`: what the name
    servers answer, as JSON, for a test to read Route 53's data plane without its control-plane
    API (TestDNSAnswer is signed for us-east-1, which a test may have taken away)."""
    query = _query(request)
    found = answer(query.get("account", DEFAULT_ACCOUNT_ID), query.get("hostedzoneid", "").rsplit("/", 1)[-1], query.get("recordname"), query.get("recordtype"))
    if found is None:
        return Response(404, [("Content-Type", "text/plain")], b"no such hosted zone")
    _, data, code = found
    body = json.dumps({"ResponseCode": code, "RecordData": data}).encode()
    return Response(200, [("Content-Type", "application/json")], body)


def handle(request, account):
    query = _query(request)
    zone_id = query.get("hostedzoneid", "").rsplit("/", 1)[-1]
    name, kind = _name(query.get("recordname")), query.get("recordtype", "").upper()
    found = answer(account, zone_id, name, kind)
    if found is None:
        return query_error("NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}", 404, XMLNS)
    nameserver, data, code = found
    entries = "".join(f"<RecordDataEntry>{xml_text(d)}</RecordDataEntry>" for d in data)
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<TestDNSAnswerResponse xmlns="{XMLNS}">'
        f"<Nameserver>{xml_text(nameserver)}</Nameserver><RecordName>{xml_text(name)}</RecordName>"
        f"<RecordType>{xml_text(kind)}</RecordType><RecordData>{entries}</RecordData>"
        f"<ResponseCode>{code}</ResponseCode><Protocol>UDP</Protocol>"
        "</TestDNSAnswerResponse>"
    ).encode()
    return Response(200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", str(uuid.uuid4()))], body)
