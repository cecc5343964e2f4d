"""What every realtime family shares: the last check of a row before it is written, and the
batched INSERT used by the bulk paths."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from django.db import connection, models

from telephony.asterisk.values import has_forbidden_characters

BATCH = 1000  # ids per IN (...) and rows per INSERT: well under every backend's limits


def realtime_row_check(model: type[models.Model], row: dict, owner: str) -> None:
    """Raise ValueError for a value Asterisk's ODBC layer would split or decode (';', '^', a
    line break) or that is wider than its column (PostgreSQL and strict MariaDB would refuse
    it with a bare DataError, SQLite would keep it). The forms refuse these first; this is the
    last line for every other path (shell, scripts, services called directly)."""
    table = model._meta.db_table
    fields = {field.column: field for field in model._meta.fields}
    for column, value in row.items():
        if not isinstance(value, str):
            continue
        if has_forbidden_characters(value):
            raise ValueError(f"{table}.{column} of {owner} contains ';', '^' or a line break, "
                             "which Asterisk's ODBC layer cannot store.")
        width = fields[column].max_length
        if width and len(value) > width:
            raise ValueError(f"{table}.{column} of {owner} is {len(value)} characters; the "
                             f"column holds {width}.")


def insert_rows(model: type[models.Model], rows: list[dict]) -> None:
    """INSERT rows naming only their columns, up to 1000 rows per statement.

    Not bulk_create: it sends every one of ps_endpoints' 147 columns (NULLs included) through
    its field's preparation, which made 10,000 phones take about 5 s on PostgreSQL instead of 2.
    Values are already what the column stores (str, int or None; '' becomes NULL as the models'
    BlankIsNullMixin would).
    """
    fields = [model._meta.get_field(name) for name in rows[0]]
    insert_values(model, fields, ([None if row[field.name] == "" else row[field.name]
                                   for field in fields] for row in rows))


def insert_values(model: type[models.Model], fields: list, values: Iterable[list]) -> None:
    """The batched INSERT itself: one list of column values per row (in `fields`' order,
    already what the driver takes), as many rows per statement as the backend's parameter
    limit allows (at most BATCH). Also used for imported leads (services/lead_rows.py)."""
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    max_params = connection.features.max_query_params or 65535
    per_statement = max(1, min(BATCH, max_params // len(fields)))
    table = connection.ops.quote_name(model._meta.db_table)
    rows = iter(values)
    with connection.cursor() as cursor:
        while chunk := list(itertools.islice(rows, per_statement)):
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES "
                           + ", ".join([one_row] * len(chunk)),
                           [value for row in chunk for value in row])


def chunks(items: list, size: int = BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
