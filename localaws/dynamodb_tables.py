"""A DynamoDB table is CREATING after CreateTable and DELETING after DeleteTable before it is
ACTIVE or gone; moto makes it ACTIVE, or deletes it, at once (moto-gaps.md §0 #3). Here
DescribeTable reports those states until they settle (`pending.Settling`), UpdateTable on a
table in either state is refused with ResourceInUseException as on AWS, and a DELETING table
stays listed and its name taken until it is gone."""

import threading

from moto.dynamodb.exceptions import ResourceInUseException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from . import pending

_lock = threading.Lock()
# id(table) -> (table, backend, pending.Settling, "CREATING" | "DELETING")
_pending = {}
_installed = False


def status(table):
    """CREATING or DELETING while the table is on its way, else None."""
    entry = _pending.get(id(table))
    return entry[3] if entry else None


def in_use(table):
    """AWS's ResourceInUseException message for a change to a table on its way, else None."""
    state = status(table)
    if not state:
        return None
    doing = "created" if state == "CREATING" else "deleted"
    return f"Attempt to change a resource which is still in use: Table is being {doing}: {table.name}"


def make_active(table):
    """Makes a table ACTIVE at once (a replica's table follows its replica's own state)."""
    with _lock:
        _pending.pop(id(table), None)


def settle(backend):
    """Settles what is due in one region; each call about a table counts as one read, so a
    client that retries a refused change sees time pass as it would on AWS."""
    with _lock:
        for key, (table, owner, settling, state) in list(_pending.items()):
            if owner is not backend or settling.pending():
                continue
            del _pending[key]
            if state == "DELETING" and backend.tables.get(table.name) is table:
                del backend.tables[table.name]


def _clamp(reads):
    with _lock:
        for _, _, settling, _ in _pending.values():
            settling.clamp(reads)


def reset():
    with _lock:
        _pending.clear()


def install():
    """Patches moto once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    pending.on_change(_clamp)
    create, delete, describe, update, listing = (
        DynamoDBBackend.create_table,
        DynamoDBBackend.delete_table,
        DynamoDBBackend.describe_table,
        DynamoDBBackend.update_table,
        DynamoDBBackend.list_tables,
    )
    describe_one = Table.describe

    def create_table(self, *args, **kwargs):
        settle(self)
        table = create(self, *args, **kwargs)
        with _lock:
            _pending[id(table)] = (table, self, pending.Settling("table.creating"), "CREATING")
        return table

    def delete_table(self, name):
        settle(self)
        table = self.get_table(name)
        if status(table) == "DELETING":
            raise ResourceInUseException(in_use(table))
        if table.deletion_protection_enabled:
            return delete(self, name)  # refused, with moto's own error
        with _lock:
            _pending[id(table)] = (table, self, pending.Settling("table.deleting"), "DELETING")
        return table

    def describe_table(self, name):
        settle(self)
        return describe(self, name)

    def update_table(self, name, *args, **kwargs):
        settle(self)
        table = self.tables.get(name)
        if table is not None and in_use(table):
            raise ResourceInUseException(in_use(table))
        return update(self, name, *args, **kwargs)

    def list_tables(self, *args, **kwargs):
        settle(self)
        return listing(self, *args, **kwargs)

    def describe_with_status(self, base_key="TableDescription"):
        description = describe_one(self, base_key)
        state = status(self)
        if state:
            description[base_key]["TableStatus"] = state
        return description

    DynamoDBBackend.create_table = create_table
    DynamoDBBackend.delete_table = delete_table
    DynamoDBBackend.describe_table = describe_table
    DynamoDBBackend.update_table = update_table
    DynamoDBBackend.list_tables = list_tables
    Table.describe = describe_with_status
