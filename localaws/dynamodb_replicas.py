"""DynamoDB global tables, version 2019.11.21, which moto accepts and ignores.

`UpdateTable` `ReplicaUpdates` Create/Delete really creates or deletes the replica table in the
other region; `DescribeTable` reports `Replicas` (CREATING, or DELETING, for a while, then
ACTIVE or gone) in every member region; item writes are copied to every member; `DeleteTable`
of a table that still has replicas is refused. DeleteTable in a replica's own region removes that
replica, as in AWS.

`LOCALAWS_REPLICA_FAILS=us-east-2=CREATION_FAILED` makes a replica created in that region settle
into that status instead of ACTIVE, with a `ReplicaStatusDescription`, as AWS reports a replica it
could not create or can no longer reach (ReplicaDescription:
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ReplicaDescription.html).
Several are separated by commas."""

import json
import os

from moto.dynamodb.models import dynamodb_backends

from . import dynamodb_tables, pending
from .wsgi import Locked, call, json_error

PREFIX = "DynamoDB_20120810."
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


# Why AWS says a replica ended in each failure status. CREATION_FAILED's is the form of the
# message quoted in hashicorp/terraform-provider-aws#46228; the others are the status meanings in
# ReplicaDescription.
FAILURES = {
    "CREATION_FAILED": "Failed to create replica: current TableMaxWriteCapacityUnits value in region {region} insufficient to match the table in its source region",
    "REGION_DISABLED": "The replica is inaccessible because the Amazon Web Services Region {region} has been disabled.",
    "INACCESSIBLE_ENCRYPTION_CREDENTIALS": "The KMS key used to encrypt the table in {region} is inaccessible.",
}
# Statuses in which a replica is on its way; the table is UPDATING meanwhile, in every member region.
IN_PROGRESS = {"CREATING", "UPDATING", "DELETING"}


def _armed_failures():
    armed = {}
    for entry in os.environ.get("LOCALAWS_REPLICA_FAILS", "").split(","):
        region, _, status = entry.strip().partition("=")
        if region and status:
            if status not in FAILURES:
                raise ValueError(f"LOCALAWS_REPLICA_FAILS: unknown replica status {status}")
            armed[region] = status
    return armed


_failures = _armed_failures()


class Replica:
    """A replica, or an MRSC witness: its status and when that settles."""

    def __init__(self, status, kind="replica.creating"):
        self.status = status
        self.description = None
        self.settling = pending.Settling(kind)


class Group:
    """One global table: its home region, its replicas and (MRSC only) its witness, by region."""

    def __init__(self, home):
        self.home = home
        self.replicas = {}
        self.witnesses = {}
        # "STRONG" once made MRSC (dynamodb_mrsc.py); None for an eventually consistent group,
        # whose DescribeTable carries no MultiRegionConsistency (ack-api-quirks DDB-TABLE-201).
        self.consistency = None

    def pending(self):
        return [*self.replicas.values(), *self.witnesses.values()]

    def members(self):
        return [self.home, *self.replicas]


# (account, table name) -> Group
_groups = {}


def _clamp(reads):
    with Locked.lock:
        for group in _groups.values():
            for replica in group.pending():
                replica.settling.clamp(reads)


pending.on_change(_clamp)


def reset():
    with Locked.lock:
        _groups.clear()


def handles(request):
    return request.service == "dynamodb" and request.target.startswith(PREFIX)


def handle(app, request, account):
    operation = request.target[len(PREFIX):]
    body = request.json()
    with Locked.lock:
        if operation == "UpdateTable":
            refused = check_updating(request.region, account, body.get("TableName", ""))
            if refused:
                return refused
        if operation == "UpdateTable" and "ReplicaUpdates" in body:
            return _update_replicas(app, request, account, body)
        if operation == "DeleteTable":
            refused = _check_delete(request.region, account, body.get("TableName", ""))
            if refused:
                return refused
        answer = call(app, request.environ)
        if answer.status >= 400:
            return answer
        if operation in WRITES:
            _replicate_writes(request.region, account, operation, body)
        if operation in ("DescribeTable", "UpdateTable", "CreateTable"):
            key = "Table" if operation == "DescribeTable" else "TableDescription"
            data = answer.json()
            _decorate(request.region, account, data.get(key, {}), advance=operation == "DescribeTable")
            return answer.with_json(data)
        return answer


def group_of(account, name):
    return _groups.get((account, name))


def backend(account, region):
    return dynamodb_backends[account][region]


def _decorate(region, account, description, advance):
    """Adds `Replicas`; each DescribeTable advances pending replica states, as time would."""
    group = group_of(account, description.get("TableName"))
    if not group or region not in group.members():
        return
    if advance:
        _advance(account, description["TableName"], group)
    others = [r for r in group.members() if r != region]
    replicas = []
    for other in others:
        replica = group.replicas.get(other)
        entry = {"RegionName": other, "ReplicaStatus": replica.status if replica else "ACTIVE"}
        if replica and replica.description:
            entry["ReplicaStatusDescription"] = replica.description
        replicas.append(entry)
    if not replicas:
        return
    description["Replicas"] = replicas
    description["GlobalTableVersion"] = "2019.11.21"
    if group.consistency:
        description["MultiRegionConsistency"] = group.consistency
    if group.witnesses:
        # GlobalTableWitnessDescription: RegionName and WitnessStatus, no ARN (ack-api-quirks
        # DDB-TABLE-259).
        description["GlobalTableWitnesses"] = [
            {"RegionName": region, "WitnessStatus": witness.status}
            for region, witness in group.witnesses.items()
        ]
    if any(member.status in IN_PROGRESS for member in group.pending()):
        description["TableStatus"] = "UPDATING"


def _advance(account, name, group):
    for region, witness in list(group.witnesses.items()):
        if witness.status in ("CREATING", "DELETING") and not witness.settling.pending():
            if witness.status == "CREATING":
                witness.status = "ACTIVE"
            else:
                del group.witnesses[region]
    for region, replica in list(group.replicas.items()):
        if replica.status in ("CREATING", "DELETING"):
            if replica.settling.pending():
                continue
            if replica.status == "CREATING":
                failure = _failures.get(region)
                replica.status = failure or "ACTIVE"
                if failure:
                    replica.description = FAILURES[failure].format(region=region)
                if failure == "CREATION_FAILED":
                    backend(account, region).tables.pop(name, None)
            else:
                backend(account, region).tables.pop(name, None)
                del group.replicas[region]
    if not group.replicas and not group.witnesses:
        # A dissolved MRSC group is a plain regional table again (ack-api-quirks DDB-TABLE-261).
        group.consistency = None


def ensure_group(account, name, home):
    return _groups.setdefault((account, name), Group(home))


def describe_home(app, request, account, name):
    """The UpdateTable answer: the table as its home region now describes it."""
    described = call(
        app,
        request.environ_with(
            json.dumps({"TableName": name}).encode(),
            headers={"X-Amz-Target": PREFIX + "DescribeTable"},
        ),
    )
    table_description = described.json().get("Table", {})
    _decorate(request.region, account, table_description, advance=False)
    return described.with_json({"TableDescription": table_description})


def _update_replicas(app, request, account, body):
    name = body.get("TableName", "")
    home = request.region
    others = set(body) - {"TableName", "ReplicaUpdates"}
    if others:
        return json_error(
            "ValidationException",
            "ReplicaUpdates cannot be combined with other updates in one UpdateTable request: "
            + ", ".join(sorted(others)),
        )
    table = backend(account, home).tables.get(name)
    if table is None:
        return json_error("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")
    if dynamodb_tables.in_use(table):
        return json_error("ResourceInUseException", dynamodb_tables.in_use(table))
    group = ensure_group(account, name, home)
    if group.home != home:
        return json_error("ValidationException", f"Replica updates must be sent to the table's home region {group.home}")
    for update in body["ReplicaUpdates"]:
        if "Create" in update:
            error = create_replica(account, table, group, update["Create"].get("RegionName", ""))
        elif "Delete" in update:
            error = _delete_replica(group, update["Delete"].get("RegionName", ""))
        else:
            error = json_error("ValidationException", "Only Create and Delete replica updates are emulated")
        if error:
            return error
    return describe_home(app, request, account, name)


def create_replica(account, table, group, region):
    if region not in dynamodb_backends[account].regions:
        return json_error("ValidationException", f"Region {region} is not a valid region for a replica")
    if region in group.members():
        return json_error(
            "ValidationException",
            f"Failed to create a the new replica of table with name: '{table.name}' because one or more replicas already existed as tables.",
        )
    stream = table.stream_specification or {}
    if not (stream.get("StreamEnabled") and stream.get("StreamViewType") == "NEW_AND_OLD_IMAGES"):
        return json_error(
            "ValidationException",
            "Table must have DynamoDB Streams enabled with StreamViewType NEW_AND_OLD_IMAGES to add replicas",
        )
    there = backend(account, region)
    dynamodb_tables.settle(there)
    if table.name in there.tables:
        return json_error("ResourceInUseException", f"Table already exists in {region}: {table.name}")
    twin = there.create_table(
        table.name,
        schema=table.schema,
        throughput=None,
        attr=table.attr,
        global_indexes=[i.describe() for i in table.global_indexes] or None,
        indexes=[i.describe() for i in table.indexes] or None,
        streams=dict(stream),
        billing_mode=table.billing_mode,
        sse_specification={"Enabled": True} if table.sse_specification else None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    dynamodb_tables.make_active(twin)
    for item in table.all_items():
        twin.put_item(item.to_json()["Attributes"])
    group.replicas[region] = Replica("CREATING")
    return None


def _delete_replica(group, region):
    replica = group.replicas.get(region)
    if replica is None or replica.status == "DELETING":
        return json_error(
            "ValidationException",
            "Replica specified in the Replica Update or Replica Delete action of the request was not found.",
        )
    replica.status = "DELETING"
    replica.description = None
    replica.settling = pending.Settling("replica.deleting")
    return None


def check_updating(region, account, name):
    """While a replica is being created or deleted the table is UPDATING, in every member region,
    and "while it's UPDATING, you can't issue another UpdateTable request"
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html)."""
    group = group_of(account, name)
    if not group or region not in group.members():
        return None
    _advance(account, name, group)
    busy = sorted(
        r for r, member in [*group.replicas.items(), *group.witnesses.items()] if member.status in IN_PROGRESS
    )
    if not busy:
        return None
    return json_error(
        "ResourceInUseException",
        f"Attempt to change a resource which is still in use: Table is being updated: {name} (replica {', '.join(busy)})",
    )


def _check_delete(region, account, name):
    group = group_of(account, name)
    if not group:
        return None
    if region == group.home:
        if group.replicas:
            return json_error(
                "ValidationException",
                f"Table {name} has replicas in {', '.join(sorted(group.replicas))}; delete them with UpdateTable ReplicaUpdates before deleting the table",
            )
        del _groups[(account, name)]
    else:
        # Deleting a replica's table in its own region removes that replica.
        group.replicas.pop(region, None)
    return None


def _keys(table, item_or_key):
    return {k: item_or_key[k] for k in table.table_key_attrs if k in item_or_key}


def _touched(operation, body):
    """(table name, key) pairs a write request changed."""
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        yield body.get("TableName"), body.get("Item") or body.get("Key") or {}
    elif operation == "BatchWriteItem":
        for name, requests in body.get("RequestItems", {}).items():
            for req in requests:
                if "PutRequest" in req:
                    yield name, req["PutRequest"].get("Item", {})
                elif "DeleteRequest" in req:
                    yield name, req["DeleteRequest"].get("Key", {})
    elif operation == "TransactWriteItems":
        for item in body.get("TransactItems", []):
            for kind in ("Put", "Update", "Delete"):
                if kind in item:
                    yield item[kind].get("TableName"), item[kind].get("Item") or item[kind].get("Key") or {}


def _replicate_writes(region, account, operation, body):
    for name, item_or_key in _touched(operation, body):
        group = group_of(account, name)
        if not group or region not in group.members():
            continue
        source = backend(account, region).get_table(name)
        key = _keys(source, item_or_key)
        current = backend(account, region).get_item(name, key)
        for other in group.members():
            if other == region or name not in backend(account, other).tables:
                continue
            if current is None:
                try:
                    backend(account, other).delete_item(name, key)
                except Exception:  # noqa: BLE001 - already absent in that replica
                    pass
            else:
                backend(account, other).put_item(name, current.to_json()["Attributes"])
