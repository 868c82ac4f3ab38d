"""Inserting many rows fast, for bulk intake: COPY on PostgreSQL, the driver's executemany on
SQLite, with values prepared by each model field as the ORM would, without building model
instances."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models


def insert_rows(model, rows: list[dict], *, returning_ids: bool = False) -> list[int]:
    """INSERT plain rows (attname → value; a field left out takes its default) of a model with
    COPY (PostgreSQL) or the driver's executemany (SQLite): values prepared by each field as the ORM would, without building
    model instances (which cost a bulk intake more than the database does). With
    `returning_ids`, primary keys are reserved first — on PostgreSQL from the table's sequence,
    on SQLite above the current maximum (safe: the surrounding transaction holds SQLite's
    write lock) — and returned in order. Other databases go through bulk_create."""
    if not rows:
        return []
    if connection.vendor not in ("sqlite", "postgresql") or (returning_ids and connection.vendor == "sqlite" and not connection.in_atomic_block):
        objects = model.objects.bulk_create([model(**row) for row in rows], batch_size=500)
        return [o.pk for o in objects]
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    ids = _reserve_ids(meta.db_table, meta.pk.column, len(rows)) if returning_ids else []
    columns = ([meta.pk] if returning_ids else []) + fields
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    defaults = {f.attname: f.get_default() for f in fields}
    plan = [(f.attname, _preparer(f)) for f in fields]
    params = []
    for index, row in enumerate(rows):
        values = [prepare(row[name] if name in row else defaults[name]) for name, prepare in plan]
        params.append([ids[index], *values] if returning_ids else values)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: PostgreSQL's bulk path (the values go through psycopg's own adapters).
            copy_sql = f"COPY {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in params:
                    copy.write_row(row)
        else:
            for start in range(0, len(params), 2000):
                cursor.executemany(sql, params[start:start + 2000])
    return ids


def insert_tuples(model, names: Sequence[str], rows: Iterable[Sequence], *, ids: Sequence[int] | None = None) -> None:
    """INSERT rows given as tuples of Python values for the fields `names` (attnames), in one
    statement per table: COPY on PostgreSQL, executemany on SQLite (inside a transaction, so
    one write lock and one commit). Every other concrete field takes its default, prepared
    once, so a column added to the model later is written with its default without this
    caller changing. With `ids` (see `reserve_ids`) the primary keys are written too.
    SQLite and PostgreSQL only."""
    meta = model._meta
    by_name = {f.attname: f for f in meta.concrete_fields}
    named = [by_name[name] for name in names]
    rest = [f for f in meta.concrete_fields if not f.primary_key and f.attname not in names]
    defaults = tuple(_preparer(f)(f.get_default()) for f in rest)
    columns = ([meta.pk] if ids is not None else []) + named + rest
    preparers = [_preparer(f) for f in named]
    if ids is None:
        params = [(*[prepare(value) for prepare, value in zip(preparers, row)], *defaults) for row in rows]
    else:
        params = [(pk, *[prepare(value) for prepare, value in zip(preparers, row)], *defaults) for pk, row in zip(ids, rows)]
    write_prepared(meta.db_table, [f.column for f in columns], params)


def write_prepared(table: str, columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    """INSERT rows of values already in the database's form into `table`: COPY on
    PostgreSQL, one executemany on SQLite."""
    if not rows:
        return
    quote = connection.ops.quote_name
    column_list = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {quote(table)} ({column_list}) VALUES ({', '.join(['%s'] * len(columns))})", rows)


def reserve_ids(model, count: int) -> list[int]:
    """`count` primary keys for rows about to be inserted with `insert_tuples`: from the
    table's sequence on PostgreSQL; on SQLite above the current maximum (safe only inside the
    transaction that inserts them, which holds SQLite's write lock)."""
    if count == 0:
        return []
    return _reserve_ids(model._meta.db_table, model._meta.pk.column, count)


#: Field classes whose values the database driver takes as they are (ints, strings, booleans).
_AS_IS = (models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField, models.PositiveIntegerField,
          models.PositiveSmallIntegerField, models.SmallIntegerField, models.BooleanField, models.CharField, models.TextField)


def _preparer(field):
    """How to turn a Python value into a query parameter for this field: what
    `field.get_db_prep_save` does, without its per-call machinery for the common plain types
    (exact classes only: a subclass goes through the field, except an encrypted field, which
    gets a cipher built once)."""
    from .fields import EncryptedTextField

    kind = type(field)
    if kind in _AS_IS or isinstance(field, models.ForeignKey):
        return lambda value: value
    if kind is EncryptedTextField:
        return _encrypter(field)
    if kind is models.DateTimeField:
        adapt = connection.ops.adapt_datetimefield_value
        seen: dict = {}

        def prepare_datetime(value):
            # A chunk repeats a few instants (its "now", its deadlines) thousands of times.
            if value is None:
                return None
            prepared = seen.get(value)
            if prepared is None:
                prepared = seen[value] = adapt(value)
            return prepared

        return prepare_datetime
    if kind is models.JSONField:
        adapt, encoder = connection.ops.adapt_json_value, field.encoder
        return lambda value: None if value is None else adapt(value, encoder)
    return lambda value: field.get_db_prep_save(value, connection)


def _encrypter(field):
    """`EncryptedTextField.get_prep_value` with the cipher built once, not once per value."""
    from . import crypto

    seal = crypto.encrypter(context=field.crypto_context)
    return lambda value: value if value is None or value == "" else seal(str(value))


def _reserve_ids(table: str, column: str, count: int) -> list[int]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT MAX({quote(column)}) FROM {quote(table)}")
        highest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
        return list(range(start, start + count))
