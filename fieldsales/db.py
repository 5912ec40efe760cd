"""Declarative base, shared column mixins, the unit of work and query helpers."""
import functools
import re
import uuid
import weakref
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import (Column, DateTime, ForeignKey, Index, MetaData, PrimaryKeyConstraint,
                        UniqueConstraint, Uuid, case, func, select)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from fieldsales.extensions import db

# Constraint names are predictable so that migrations and error mapping can refer to them.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True), uuid.UUID: Uuid}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class OrgMixin:
    """Every tenant table carries org_id; no query may cross it."""

    @declared_attr
    def org_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805 (declared_attr takes the class)
        return mapped_column(ForeignKey("orgs.id"), index=True)


class TenantIdMixin:
    """A tenant row's key: (org_id, id), so that Citus routes every write of it by org_id
    (DESIGN.md "Scaling out"); look one up with session.get(Model, (org_id, id))."""

    @declared_attr
    def org_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805 (declared_attr takes the class)
        return mapped_column(ForeignKey("orgs.id"), primary_key=True, index=True)

    @declared_attr
    def id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())


class UpdatedMixin(TimestampMixin):
    # Fetch updated_at with RETURNING on UPDATE too, rather than by a later SELECT.
    __mapper_args__ = {"eager_defaults": True}
    updated_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp(),
                                                 onupdate=func.statement_timestamp())


class ClientIdMixin:
    """Rows a phone may create with its own id: who created it and a digest of the request,
    so that a retry can be told from a different request reusing the id."""

    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    request_hash: Mapped[str | None]


@contextmanager
def transaction():
    """One unit of work: what runs inside commits once at the end, or rolls back on any error
    (the use case that opens it owns the transaction; read helpers never commit)."""
    session = db.session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def reading():
    """The session for reads that may lag the primary by a replica's replay delay: maps,
    attendance and its exports. Never for a write, nor for a read that must see the caller's
    own fresh write (the replica may not have it yet). Without FIELDSALES_READ_DATABASE_URL it
    is the request's own session, on the primary."""
    if db.read_session is None:
        yield db.session
        return
    try:
        yield db.read_session
    finally:
        # Ends the replica transaction now (a long snapshot there delays replay) and detaches
        # what was loaded, keeping its attributes for serialisation (a rollback would expire them).
        db.read_session.close()


_CITUS = weakref.WeakKeyDictionary()


def on_citus(engine=None) -> bool:
    """Whether `engine` (the app's, by default) talks to a Citus coordinator: read once per
    engine from pg_extension, on a raw driver connection (no statement of the caller's)."""
    engine = engine or db.engine
    found = _CITUS.get(engine)
    if found is None:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')")
            found = _CITUS[engine] = bool(cursor.fetchone()[0])
            connection.rollback()
        finally:
            connection.close()
    return found


def count_rows(stmt) -> int:
    """The exact number of rows `stmt` would return (X-Pagination's total)."""
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def paginate(stmt, page_params, *, scalars=True):
    """Run one page of `stmt` and set the total on flask-smorest's pagination parameters."""
    page_params.item_count = count_rows(stmt)
    page = stmt.limit(page_params.page_size).offset(page_params.first_item)
    result = db.session.execute(page)
    return result.scalars().all() if scalars else result.all()


def apply_changes(row, data: dict, fields) -> dict:
    """Set the given `fields` of `data` that differ on `row`; return what changed (for the
    audit entry)."""
    changed = {k: data[k] for k in fields if k in data and getattr(row, k) != data[k]}
    for key, value in changed.items():
        setattr(row, key, value)
    return changed


def violated(exc, sqlstate: str, constraint: str | None = None) -> bool:
    """Whether a DBAPI error wrapped by SQLAlchemy is `sqlstate` (e.g. 23505 unique_violation),
    optionally on the named constraint (psycopg 3 and psycopg2 alike).

    Not by the reported name alone: on Citus a worker reports the shard's names (table and
    constraint carry a `_<shard id>` suffix) and some paths report none. A key violation is
    recognised by its table and the key columns in the error's detail; any other constraint by
    its name when one is reported, else by the sqlstate."""
    orig = getattr(exc, "orig", None)
    # psycopg 3 names it `sqlstate`, psycopg2 `pgcode`.
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code is None or code != sqlstate:
        return False
    if constraint is None:
        return True
    diag = orig.diag
    key = _KEY_DETAIL.match(getattr(diag, "message_detail", None) or "")
    known = _declared_keys().get(constraint)
    if key and known and known[1] is not None:
        table = _SHARD_SUFFIX.sub("", getattr(diag, "table_name", None) or "")
        return table in ("", known[0]) and [c.strip() for c in key[1].split(",")] == known[1]
    name = getattr(diag, "constraint_name", None) or ""
    if not name and known is None and key is None:
        # A check or a trigger's refusal raised on a Citus worker names nothing (no constraint,
        # no table, no key detail): the sqlstate is all there is, and callers ask where only
        # `constraint` can be violated.
        return True
    return _SHARD_SUFFIX.sub("", name) == constraint or name == constraint


_KEY_DETAIL = re.compile(r"Key \((.*)\)=\(")
_SHARD_SUFFIX = re.compile(r"_\d+$")


@functools.cache
def _declared_keys() -> dict:
    """Name -> (table, key column names, or None for expression keys) of every primary key,
    unique constraint and unique index the models declare."""
    keys = {}
    for table in Base.metadata.tables.values():
        for item in [*table.constraints, *table.indexes]:
            if isinstance(item, PrimaryKeyConstraint | UniqueConstraint) or (
                    isinstance(item, Index) and item.unique):
                names = [e.name if isinstance(e, Column) else None
                         for e in getattr(item, "expressions", None) or item.columns]
                keys[str(item.name)] = (table.name, None if None in names else names)
    return keys


def copy_in(cursor, sql: str, rows) -> None:
    """Stream `rows` (sequences of None, str, int, float, bool, or lists of those for arrays)
    into `COPY ... FROM STDIN` (text format) on a raw driver cursor: psycopg 3 or psycopg2."""
    if hasattr(cursor, "copy_expert"):  # psycopg2: reads COPY text from a file-like object
        cursor.copy_expert(sql, _CopyText(rows), size=1 << 16)
        return
    with cursor.copy(sql) as copy:  # psycopg 3: its own dumpers
        for row in rows:
            copy.write_row(row)


def _copy_text(text: str) -> str:
    """COPY's text format escapes the characters that delimit fields and rows (checked first:
    most values have none, and this runs once per cell)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return text


def _copy_field(value) -> str:
    if isinstance(value, str):
        return _copy_text(value)
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return _copy_text("{" + ",".join(map(_array_item, value)) + "}")
    raise TypeError(f"copy_in cannot send a {type(value).__name__}")


def _array_item(item) -> str:
    """One element of an array literal: quoted, so commas, braces and spaces stay inside."""
    if item is None:
        return "NULL"
    if isinstance(item, int | float) and not isinstance(item, bool):
        return repr(item)
    if isinstance(item, str):
        return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"copy_in cannot send an array of {type(item).__name__}")


class _CopyText:
    """The file-like object psycopg2's copy_expert reads: rows encoded on demand, so a large
    import is streamed rather than built in memory."""

    def __init__(self, rows):
        self._rows = iter(rows)
        self._rest = ""

    def read(self, size=-1):
        lines, length = [self._rest], len(self._rest)
        while size < 0 or length < size:
            row = next(self._rows, None)
            if row is None:
                break
            line = "\t".join(map(_copy_field, row)) + "\n"
            lines.append(line)
            length += len(line)
        text = "".join(lines)
        if size < 0:
            size = len(text)
        self._rest = text[size:]
        return text[:size]


def rfc3339(value):
    """SQL: a timestamptz as the API writes times (fieldsales.schemas.Timestamp: UTC, `Z`,
    microseconds only when there are any), for JSON and CSV built by PostgreSQL. NULL stays
    NULL."""
    utc = func.timezone("UTC", value)
    return case((func.date_trunc("second", value) == value,
                 func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
                else_=func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
