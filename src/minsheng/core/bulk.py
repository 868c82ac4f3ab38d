"""Inserting many rows fast, for bulk intake: COPY on PostgreSQL, the driver's executemany on
SQLite, with values prepared by each model field as the ORM would, without building model
instances."""

from __future__ import annotations

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


def insert_objects(objects: list) -> None:
    """`insert_rows` for unsaved model instances of one model, which get their primary keys:
    each field's `pre_save` runs first, as in save() and bulk_create (so derived fields such
    as blind indexes are filled). On other databases, bulk_create."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor not in ("sqlite", "postgresql") or (connection.vendor == "sqlite" and not connection.in_atomic_block):
        model.objects.bulk_create(objects, batch_size=500)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    rows = []
    for obj in objects:
        row = {}
        for f in fields:
            row[f.attname] = f.pre_save(obj, True)
        rows.append(row)
    ids = insert_rows(model, rows, returning_ids=True)
    for obj, pk in zip(objects, ids):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias


#: Field classes whose values the database driver takes as they are (ints, strings, booleans).
_AS_IS = (models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField, models.PositiveIntegerField,
          models.PositiveSmallIntegerField, models.SmallIntegerField, models.BooleanField, models.CharField, models.TextField)


def _preparer(field):
    """How to turn a Python value into a query parameter for this field: what
    `field.get_db_prep_save` does, without its per-call machinery for the common plain types
    (exact classes only: a subclass, e.g. an encrypted field, goes through the field)."""
    kind = type(field)
    if kind in _AS_IS or isinstance(field, models.ForeignKey):
        return lambda value: value
    if kind is models.DateTimeField:
        adapt = connection.ops.adapt_datetimefield_value
        return lambda value: value if value is None else adapt(value)
    if kind is models.JSONField:
        adapt, encoder = connection.ops.adapt_json_value, field.encoder
        return lambda value: None if value is None else adapt(value, encoder)
    return lambda value: field.get_db_prep_save(value, connection)


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
