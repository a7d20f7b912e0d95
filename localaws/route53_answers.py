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
  referenced AWS resource", API_AliasTarget; a load balancer by `elbv2_health.healthy`); a
  record without either is always healthy ("Records without a health check are always
  healthy");
- "Route 53 initially considers only the nonzero weighted records, if any. If all the records
  that have a weight greater than 0 are unhealthy, then Route 53 considers the zero-weighted
  records";
- "If no record is healthy, all records are healthy": with every record unhealthy Route 53
  answers as if all were healthy (fail open).
An alias record to a load balancer answers with the load balancer's addresses
(`elbv2_health.addresses`). A name the zone does not hold is NXDOMAIN; a name it holds with no
record of the type is NOERROR with no data. Each answer counts as one read of a health check's
change under way (the read-counting mode of `pending`)."""

import random
import uuid
from urllib.parse import parse_qs

from moto.route53.exceptions import NoSuchHostedZone
from moto.route53.models import route53_backends

from . import elbv2_health, route53_health
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


def _healthy(record):
    # Both are read, whatever the first says: each answer is one read of each.
    checked = not record.health_check_id or route53_health.healthy(record.health_check_id, read=True)
    alias = record.alias_target
    if alias and _true(alias.get("EvaluateTargetHealth")):
        account, region, balancer = _balancer(alias)
        target = balancer is not None and elbv2_health.healthy(account, region, balancer, read=True)
        return checked and target
    return checked


def choose(records):
    """The record Route 53 answers with, from records of one name and type."""
    weighted = [r for r in records if r.set_identifier is not None and r.weight is not None]
    if not weighted:
        return records[0]
    up = [r for r in weighted if _healthy(r)]
    pool = (
        [r for r in up if _weight(r) > 0]
        or up
        or [r for r in weighted if _weight(r) > 0]
        or weighted
    )
    weights = [_weight(r) for r in pool]
    return random.choices(pool, weights if sum(weights) else None)[0]


def _values(record):
    if record.alias_target:
        _, _, balancer = _balancer(record.alias_target)
        return elbv2_health.addresses(balancer) if balancer is not None else []
    return [r["Value"] if isinstance(r, dict) else str(r) for r in record.records or []]


def handle(request, account):
    query = {k.lower(): v[0] for k, v in parse_qs(request.environ.get("QUERY_STRING", "")).items()}
    zone_id = query.get("hostedzoneid", "").rsplit("/", 1)[-1]
    name, kind = _name(query.get("recordname")), query.get("recordtype", "").upper()
    with Locked.lock:
        backend = route53_backends[account]["aws"]
        try:
            zone = backend.get_hosted_zone(zone_id)
        except NoSuchHostedZone:
            return query_error("NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}", 404, XMLNS)
        named = [r for r in zone.rrsets if _name(r.name) == name]
        records = [r for r in named if r.type == kind]
        data = _values(choose(records)) if records else []
        servers = next((r.records for r in zone.rrsets if r.type == "NS" and _name(r.name) == _name(zone.name)), [])
    nameserver = servers[0] if servers else "ns-0.awsdns-00.com"
    entries = "".join(f"<RecordDataEntry>{xml_text(d)}</RecordDataEntry>" for d in data)
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<TestDNSAnswerResponse xmlns="{XMLNS}">'
        f"<Nameserver>{xml_text(nameserver)}</Nameserver><RecordName>{xml_text(name)}</RecordName>"
        f"<RecordType>{xml_text(kind)}</RecordType><RecordData>{entries}</RecordData>"
        f"<ResponseCode>{'NOERROR' if named else 'NXDOMAIN'}</ResponseCode><Protocol>UDP</Protocol>"
        "</TestDNSAnswerResponse>"
    ).encode()
    return Response(200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", str(uuid.uuid4()))], body)
