"""DynamoDB multi-Region strong consistency (MRSC), which moto does not know.

An empty table becomes an MRSC global table with one UpdateTable carrying ReplicaUpdates (Create),
GlobalTableWitnessUpdates (Create) and MultiRegionConsistency=STRONG: exactly three Regions, the
table's own plus two replicas, or one replica and a witness. The witness holds no table. Its
membership is then frozen: no replica is added, and it is dissolved only by one UpdateTable deleting
every replica and the witness together; DeleteTable meanwhile is refused in every member Region.
Writes reach every replica at once (dynamodb_replicas copies them synchronously).

Sources: AWS code library, "Create and manage DynamoDB global tables with MRSC"
(https://docs.aws.amazon.com/code-library/latest/ug/dynamodb_example_dynamodb_Scenario_MRSCGlobalTables_section.html:
"Table must be empty when enabling MRSC", "MRSC requires exactly three replicas");
API_CreateGlobalTableWitnessGroupMemberAction
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateGlobalTableWitnessGroupMemberAction.html);
the Developer Guide's consistency modes ("You cannot change a global table's consistency mode after
creation", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GlobalTables.html); and
the messages AWS answered, as recorded by ack-api-quirks (dynamodb, verified 2026-10-09,
findings DDB-TABLE-202, 257, 258, 259, 260, 261), quoted below."""

from . import dynamodb_replicas, dynamodb_tables, pending
from .dynamodb_replicas import PREFIX, Replica
from .wsgi import Locked, json_error

MRSC_KEYS = {"MultiRegionConsistency", "GlobalTableWitnessUpdates"}
MEMBERSHIP_KEYS = {"ReplicaUpdates", *MRSC_KEYS}

# The Region sets of MRSC: the replicas and the witness all in one ("The witness must be in a
# different Region than the replicas and within the same Region set",
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateGlobalTableWitnessGroupMemberAction.html).
# A third-party log saw AWS accept a table across two sets (DDB-TABLE-257); the documentation
# wins. A Region in no set, such as us-west-1, is refused (DDB-TABLE-202, 257).
REGION_SETS = {
    "US": {"us-east-1", "us-east-2", "us-west-2"},
    "EU": {"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"},
    "AP": {"ap-northeast-1", "ap-northeast-2", "ap-northeast-3"},
}
MRSC_REGIONS = set().union(*REGION_SETS.values())

STRONG = "MultiRegionConsistency set to STRONG"


def handles(request, account):
    """MRSC requests, and membership changes or deletion of a table that is MRSC."""
    if request.service != "dynamodb" or request.target not in (PREFIX + "UpdateTable", PREFIX + "DeleteTable"):
        return False
    body = request.json()
    group = dynamodb_replicas.group_of(account, body.get("TableName", ""))
    strong = group is not None and group.consistency == "STRONG" and request.region in group.members()
    if request.target == PREFIX + "DeleteTable":
        return strong
    return bool(MRSC_KEYS & set(body)) or (strong and "ReplicaUpdates" in body)


def handle(app, request, account):
    body = request.json()
    name = body.get("TableName", "")
    with Locked.lock:
        group = dynamodb_replicas.group_of(account, name)
        if request.target == PREFIX + "DeleteTable":
            # DDB-TABLE-260: DeleteTable in any member Region of an MRSC group.
            return json_error(
                "ValidationException",
                f"Deletion of only one table replica is not supported for global tables with {STRONG}.",
            )
        refused = dynamodb_replicas.check_updating(request.region, account, name)
        if refused:
            return refused
        others = set(body) - {"TableName"} - MEMBERSHIP_KEYS
        if others:
            # DDB-TABLE-257
            return json_error("ValidationException", "Requests that modify replicas or witnesses must not also modify other fields")
        if group is not None and group.consistency == "STRONG":
            error = _dissolve(group, body)
        else:
            error = _create(account, request.region, name, group, body)
        if error:
            return error
        return dynamodb_replicas.describe_home(app, request, account, name)


def _regions(updates, action):
    return [u[action].get("RegionName", "") for u in updates if action in u]


def _create(account, home, name, group, body):
    replicas = body.get("ReplicaUpdates", [])
    witnesses = body.get("GlobalTableWitnessUpdates", [])
    if body.get("MultiRegionConsistency") != "STRONG":
        # DDB-TABLE-257
        return json_error(
            "ValidationException",
            "MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present.",
        )
    if group is not None and group.replicas:
        # An MREC global table cannot be converted (Developer Guide, consistency modes; DDB-TABLE-202).
        return json_error("ValidationException", "MultiRegionConsistency parameter is unsupported on existing global table")
    if any(set(u) != {"Create"} for u in replicas) or any(set(u) != {"Create"} for u in witnesses):
        # DDB-TABLE-260
        return json_error(
            "ValidationException",
            "Only Replica Create actions are supported when MultiRegionConsistency parameter is provided.",
        )
    if len(witnesses) > 1:
        # DDB-TABLE-257: the API's length constraint on globalTableWitnessUpdates.
        return json_error(
            "ValidationException",
            "1 validation error detected: Value at 'globalTableWitnessUpdates' failed to satisfy constraint: Member must have length less than or equal to 1",
        )
    replica_regions = _regions(replicas, "Create")
    witness_regions = _regions(witnesses, "Create")
    if 1 + len(replica_regions) + len(witness_regions) != 3 or not replica_regions:
        # Exactly three Regions: three replicas, or two and a witness (code library; DDB-TABLE-257).
        return json_error("ValidationException", f"Unsupported replica count for global tables with {STRONG}.")
    outside = sorted({home, *replica_regions, *witness_regions} - MRSC_REGIONS)
    if outside:
        return json_error(
            "ValidationException",
            f"Unsupported Region(s) specified for global tables with {STRONG}: [{', '.join(outside)}].",
        )
    if not any({home, *replica_regions, *witness_regions} <= members for members in REGION_SETS.values()):
        # The message is ours: no source gives AWS's wording for this refusal.
        return json_error(
            "ValidationException",
            f"The replicas and witness of a global table with {STRONG} must be within one Region set.",
        )
    if home in witness_regions:
        return json_error(
            "ValidationException",
            f"Cannot add a witness in the same region as an existing replica when creating a global table with {STRONG}.",
        )
    targets = replica_regions + witness_regions
    if home in targets or len(set(targets)) != len(targets):
        return json_error("ValidationException", "Cannot target multiple regions with the same action")
    table = dynamodb_replicas.backend(account, home).tables.get(name)
    if table is None:
        return json_error("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")
    if dynamodb_tables.in_use(table):
        return json_error("ResourceInUseException", dynamodb_tables.in_use(table))
    if any(True for _ in table.all_items()):
        # Code library: "Table must be empty when enabling MRSC" (wording of the refusal is ours).
        return json_error(
            "ValidationException",
            f"Table {name} contains items; a global table with {STRONG} can only be created from an empty table.",
        )
    group = dynamodb_replicas.ensure_group(account, name, home)
    created = []
    for region in replica_regions:
        error = dynamodb_replicas.create_replica(account, table, group, region)
        if error:
            for made in created:
                dynamodb_replicas.backend(account, made).tables.pop(name, None)
                group.replicas.pop(made, None)
            return error
        created.append(region)
        group.replicas[region] = Replica("CREATING", "mrsc.creating")
    for region in witness_regions:
        # A witness holds no table in its Region (DDB-TABLE-259).
        group.witnesses[region] = Replica("CREATING", "mrsc.creating")
    group.consistency = "STRONG"
    return None


def _dissolve(group, body):
    """The one change an MRSC group accepts: deleting every replica and every witness at once
    (DDB-TABLE-260, 261)."""
    if "MultiRegionConsistency" in body:
        return json_error("ValidationException", "MultiRegionConsistency parameter is unsupported on existing global table")
    replicas = body.get("ReplicaUpdates", [])
    witnesses = body.get("GlobalTableWitnessUpdates", [])
    if any("Create" in u for u in replicas):
        return json_error("ValidationException", "Cannot add replicas to a global table with strong MultiRegionConsistency")
    unknown = sorted(set(_regions(witnesses, "Delete")) - set(group.witnesses))
    if unknown or any("Create" in u for u in witnesses):
        return json_error(
            "ValidationException",
            "Update table delete operation failed because one or more witnesses were not part of the global table. "
            f"Please retry the request without these witnesses: [{', '.join(unknown)}].",
        )
    if set(_regions(witnesses, "Delete")) != set(group.witnesses):
        return json_error("ValidationException", "Update table delete operation does not include all witnesses.")
    if set(_regions(replicas, "Delete")) != set(group.replicas):
        return json_error(
            "ValidationException",
            f"Deletion of only one table replica is not supported for global tables with {STRONG}.",
        )
    for member in group.pending():
        member.status = "DELETING"
        member.description = None
        member.settling = pending.Settling("mrsc.deleting")
    return None
