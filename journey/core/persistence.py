"""What the services do alike with the session: read one page of a query with the
total, flush so that a row the database refuses is a 409, not a 500, and the one named
commit outside the request edge (:func:`commit_unit`).

Here rather than in :mod:`journey.core.extensions` (which imports nothing of the project)
because a refusal is a :class:`journey.core.errors.Conflict`.
"""

from __future__ import annotations

import json
from collections import namedtuple
from contextlib import contextmanager
from decimal import Decimal
from functools import cache, partial

import orjson
from flask import g, has_request_context
from sqlalchemy import (
    JSON,
    Connection,
    Date,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    func,
    insert,
    inspect,
    select,
    true,
)
from sqlalchemy import column as sql_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.functions import FunctionElement

from journey.core.errors import Conflict
from journey.core.extensions import db

#: The longest statement text whose parsing psycopg keeps (see below).
PARSED_STATEMENT_LENGTH = 32 * 1024


def keep_long_statements_parsed() -> None:
    """psycopg turns a statement's text into PostgreSQL's (``%(name)s`` into ``$1``) in
    Python on every execute, and keeps the result only for texts of up to 4,096
    characters (``psycopg._queries.MAX_CACHED_STATEMENT_LENGTH``: ORMs generate long
    texts that never come back). This project's hot statements are long and come back
    every time, built once: a search (about 4,000 characters), a quote's items and its
    one-statement write; parsing them again took a quarter of a quote's time. The
    limit is raised for the process (the cache still keeps 128 texts, least recently
    used first). A psycopg without that setting is left as it is;
    tests/journey/core/test_persistence.py notices."""
    from psycopg import _queries

    if getattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", PARSED_STATEMENT_LENGTH) < \
            PARSED_STATEMENT_LENGTH:
        _queries.MAX_CACHED_STATEMENT_LENGTH = PARSED_STATEMENT_LENGTH


def insert_on_conflict(table, dialect: str | None = None):
    """An INSERT of ``table`` that takes ``ON CONFLICT DO NOTHING / DO UPDATE`` on the
    session's database, or on ``dialect`` (a statement built once per database):
    PostgreSQL's or SQLite's own construct."""
    dialect = dialect or dialect_name()
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def dialect_name() -> str:
    """The session's database: ``postgresql`` or ``sqlite``."""
    return db.session.get_bind().dialect.name


class json_rows(FunctionElement):  # noqa: N801 (a SQL function, named as one)
    """An aggregate: a JSON array of one JSON object per row, ``{column key: value}``
    of each column given (PostgreSQL ``json_agg(json_build_object(...))``, SQLite
    ``json_group_array(json_object(...))``), in no particular order; no rows give
    NULL on PostgreSQL and ``[]`` on SQLite. What JSON cannot carry comes back as
    JSON has it: dates and times as ISO strings, decimals as floats, SQLite's booleans
    as 0 and 1; the caller converts (or refuses such columns). A correlated subquery of
    it reads a row's children in the row's own statement."""

    type = JSON()
    inherit_cache = True
    name = "json_rows"


def _json_pairs(element, compiler, *, json_text: bool, **kw) -> str:
    pairs = []
    for column in element.clauses:
        if not column.key.isidentifier():
            raise ValueError(f"not a plain column key: {column.key!r}")
        value = compiler.process(column, **kw)
        if json_text and isinstance(column.type, JSON):
            value = f"json({value})"  # SQLite keeps JSON as text: embed it as JSON
        pairs.append(f"'{column.key}', {value}")
    return ", ".join(pairs)


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element, compiler, **kw) -> str:
    return f"json_agg(json_build_object({_json_pairs(element, compiler, json_text=False, **kw)}))"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element, compiler, **kw) -> str:
    return f"json_group_array(json_object({_json_pairs(element, compiler, json_text=True, **kw)}))"


class plus_days(FunctionElement):  # noqa: N801 (a SQL function, named as one)
    """``date + days`` as a date, of two SQL expressions (PostgreSQL's ``date +
    integer``; SQLite's ``date(d, '+n days')``, dates being ISO text there)."""

    type = Date()
    inherit_cache = True
    name = "plus_days"


@compiles(plus_days, "postgresql")
def _plus_days_postgresql(element, compiler, **kw) -> str:
    day, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST({day} AS DATE) + CAST({days} AS INTEGER))"


@compiles(plus_days, "sqlite")
def _plus_days_sqlite(element, compiler, **kw) -> str:
    day, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date({day}, printf('%+d days', {days}))"


def insert_once(row, *, unique: str) -> int | None:
    """Insert the new ORM object ``row`` unless its table holds a row with the same
    ``unique`` column already (the same fact, written earlier or at the same moment
    elsewhere): one ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``, without a
    savepoint. Returns the new row's id (also set on ``row``), or None when there was
    one. Unset columns get their defaults, as in :func:`insert_new`. ``row`` is not
    added to the session; what it refers to is flushed first."""
    db.session.flush()
    table = inspect(type(row)).local_table
    new_id = db.session.execute(
        insert_on_conflict(table).values(**_values_of(row))
        .on_conflict_do_nothing(index_elements=[unique]).returning(table.c.id)).scalar()
    if new_id is not None:
        row.id = new_id
    return new_id


def insert_new(rows: list) -> None:
    """Write new ORM objects of one class with one ``INSERT ... RETURNING id`` and make
    them the session's persistent objects, as a flush would, without the unit of work
    (a hot path writing many rows at once). Columns left unset get their defaults
    (also set on the objects, so reading them loads nothing); what the rows refer to
    must be in the database already. Relationships set on them stay as set."""
    if not rows:
        return
    table = inspect(type(rows[0])).local_table
    values = [_values_of(row) for row in rows]
    if dialect_name() == "postgresql":
        # One statement of one text whatever the number of rows (the rows as one JSON
        # parameter): psycopg caches its parsing and prepares it, where a multi-row
        # VALUES of a seven-line quote binds 168 parameters, parsed again each time.
        # The ids come from the table's sequence in the order of the rows (the
        # SELECT's ORDER BY), so sorted they follow the rows.
        statement, encoders = _recordset_insert(table)
        ids = sorted(db.session.execute(statement, {"rows": _records(values, encoders)})
                     .scalars())
    else:
        ids = db.session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            values).scalars().all()
    _persisted(rows, ids)


def insert_new_with_children(parent, children: list, *, key: str, also: list = (),
                             update: tuple | None = None) -> None:
    """:func:`insert_new` of the new ``parent`` and of its new ``children``, whose column
    ``key`` (a foreign key, left unset) then holds the parent's id; with them, the new
    rows ``also`` (of one class, referring to rows already written) and ``update``,
    ``(persistent object, {attribute: value})``: those columns of its row changed (the
    object holds the values, as written, with nothing left to flush).

    On PostgreSQL one statement writes it all (the other writes in a ``WITH``, the
    children's INSERT from the parent's): one round trip and no unit of work. Elsewhere,
    or without children, a statement each."""
    also = list(also)
    if not children or dialect_name() != "postgresql":
        insert_new([parent])
        for child in children:
            setattr(child, key, parent.id)
        insert_new(children)
        insert_new(also)
        if update is not None:
            target, values = update
            table = inspect(type(target)).local_table
            db.session.execute(table.update().where(table.c.id == target.id).values(
                **{_column_key(target, name): value for name, value in values.items()}))
            _committed(target, values)
        return
    parent_values = _values_of(parent)
    child_values = [_values_of(child) for child in children]
    also_values = [_values_of(row) for row in also]
    target, changes = update if update is not None else (None, {})
    statement, parent_json, child_json, also_json = _family_insert(
        inspect(type(parent)).local_table, inspect(type(children[0])).local_table, key,
        inspect(type(also[0])).local_table if also else None,
        inspect(type(target)).local_table if target is not None else None,
        tuple(_column_key(target, name) for name in changes))
    parameters = {"p_rows": _records([parent_values], parent_json),
                  "c_rows": _records(child_values, child_json)}
    if also:
        parameters["a_rows"] = _records(also_values, also_json)
    if target is not None:
        parameters["u_id"] = target.id
        parameters.update(_prefixed("u_", {_column_key(target, name): value
                                           for name, value in changes.items()}))
    # through the driver (no ORM execution, no result built from the cursor's
    # description each time): 0.16-0.21 ms of Python less per quote (two in-process
    # runs of 600 quotes, the old and the new way taking turns)
    rows = sorted(driver_read(statement, parameters, flush=True))
    parent_id = rows[0][1]
    _persisted([parent], [parent_id])
    for child in children:
        setattr(child, key, parent_id)
    _persisted(children, [child_id for child_id, *_ in rows])
    if also:
        _persisted(also, sorted(rows[0][2]))
    if target is not None:
        _committed(target, changes)


def _column_key(row, attribute: str) -> str:
    return inspect(type(row)).column_attrs[attribute].columns[0].key


def _committed(row, values: dict) -> None:
    """``row`` holds ``values`` as its database row does (nothing to flush)."""
    for name, value in values.items():
        set_committed_value(row, name, value)


def _prefixed(prefix: str, values: dict) -> dict:
    return {prefix + name: value for name, value in values.items()}


def _persisted(rows: list, ids) -> None:
    """Make the new ORM objects ``rows``, just written with ``ids``, the session's."""
    for row, new_id in zip(rows, ids, strict=True):
        row.id = new_id
        make_transient_to_detached(row)
        db.session.add(row)


def _recordset(table, *, prefix: str = "", omit: str | None = None) -> tuple:
    """``(columns, json_to_recordset(:rows) AS (typed columns, n), its columns as the
    table's types, the columns' encoders)``: every column of ``table`` but the id (and
    ``omit``), the rows bound as one JSON array of objects named ``prefix + "rows"``
    (see :func:`_records`), ``n`` their order. One parameter whatever the columns
    (psycopg caches the parsing of statements of up to 50 parameters only; see also
    :func:`keep_long_statements_parsed`), and one JSON text is dumped faster than an
    array per column."""
    columns = [column for column in table.c if not column.primary_key and column.key != omit]
    as_json = {column.key for column in columns if isinstance(column.type, JSON)}
    rows = (func.json_to_recordset(cast(bindparam(prefix + "rows", type_=Text()), JSON))
            .table_valued(*(sql_column(column.key, Text() if column.key in as_json
                                       else column.type) for column in columns),
                          sql_column("n", Integer()))
            .render_derived(with_types=True))
    picked = [cast(rows.c[column.key], column.type) if column.key in as_json
              else rows.c[column.key] for column in columns]
    return columns, rows, picked, _encoders(table, tuple(c.key for c in columns))


@cache
def _encoders(table, keys: tuple) -> dict:
    """For each column of ``keys``, what turns a value into what its JSON record holds:
    the column type's own bind processing on PostgreSQL (an enum's stored string, a
    time in UTC), then JSON's form (JSON columns as their text, see
    :func:`_json_text`)."""
    dialect = postgresql.psycopg.dialect()
    encoders = {}
    for key in keys:
        type_ = table.c[key].type
        if isinstance(type_, JSON):
            encoders[key] = partial(_json_text, type_=type_)
            encoders[key].takes_none = True
        else:
            encoders[key] = type_.bind_processor(dialect)
    return encoders


def _json_value(value):
    """The rows' dump's ``default`` (:func:`_records`): decimals as text (PostgreSQL
    reads it into its column's type). Dates and times orjson writes itself, in ISO
    form."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no JSON form here")


def _records(values: list[dict], encoders: dict) -> str:
    """Rows of column values as the JSON text of :func:`_recordset`'s parameter (a JSON
    column's None goes through its encoder too: JSON ``null`` unless the column stores
    it as SQL NULL, as a flush writes it). Written by orjson (dates and times in ISO
    form, decimals by :func:`_json_value`, text as UTF-8 rather than ``\\u`` escapes:
    PostgreSQL reads the same values): 0.03 ms of a quote's Python less than
    ``json``."""
    return orjson.dumps([
        {**{name: _encoded(encoders[name], row[name]) for name in encoders}, "n": n}
        for n, row in enumerate(values)], default=_json_value).decode()


def _encoded(encode, value):
    if encode is None or (value is None and not getattr(encode, "takes_none", False)):
        return value
    return encode(value)


@cache
def _recordset_insert(table) -> tuple:
    """PostgreSQL: ``INSERT INTO table (...) SELECT ... FROM json_to_recordset(:rows)
    ORDER BY n RETURNING id``, every column but the id; and the columns' encoders
    (:func:`_records`)."""
    columns, rows, picked, encoders = _recordset(table)
    return (insert(table).from_select(columns, select(*picked).order_by(rows.c.n))
            .returning(table.c.id), encoders)


@cache
def _family_insert(parent_table, child_table, key: str, also_table=None, update_table=None,
                   update_columns: tuple = ()) -> tuple:
    """PostgreSQL: ``WITH parent AS (INSERT INTO parent_table ... RETURNING id)[, also AS
    (INSERT INTO also_table ... RETURNING id)][, changed AS (UPDATE update_table SET ...
    WHERE id = :u_id)] INSERT INTO child_table (key, ...) SELECT parent.id, ... FROM
    parent JOIN json_to_recordset(:c_rows) ON true ORDER BY n RETURNING id, key[, (the
    also rows' ids)]``; parameters ``p_rows``, ``c_rows``, ``a_rows`` and ``u_*``; and
    the encoders of the three inserts' columns."""
    parent_columns, parent_rows, parent_picked, parent_json = _recordset(parent_table,
                                                                        prefix="p_")
    parent = (insert(parent_table).from_select(parent_columns, select(*parent_picked))
              .returning(parent_table.c.id).cte("parent"))
    columns, rows, picked, child_json = _recordset(child_table, prefix="c_", omit=key)
    children = (select(parent.c.id, *picked).select_from(parent).join(rows, true())
                .order_by(rows.c.n))
    returned = [child_table.c.id, child_table.c[key]]
    also_json: dict = {}
    if also_table is not None:
        also_columns, also_rows, also_picked, also_json = _recordset(also_table, prefix="a_")
        also = (insert(also_table).from_select(also_columns, select(*also_picked)
                                               .order_by(also_rows.c.n))
                .returning(also_table.c.id).cte("also"))
        returned.append(select(func.array_agg(also.c.id)).scalar_subquery())
    statement = (insert(child_table).from_select([child_table.c[key], *columns], children)
                 .returning(*returned))
    if update_table is not None:
        statement = statement.add_cte(
            update_table.update().where(update_table.c.id == bindparam("u_id"))
            .values({name: bindparam("u_" + name, type_=update_table.c[name].type)
                     for name in update_columns})
            .returning(update_table.c.id).cte("changed"))
    return statement, parent_json, child_json, also_json


def _json_text(value, type_: JSON) -> str | None:
    """``value`` of a JSON column as the text a flush would write (None is JSON
    ``null`` unless the column stores it as SQL NULL)."""
    if value is None and type_.none_as_null:
        return None
    return json.dumps(value)


def _values_of(row) -> dict:
    """The column values a flush would insert for the new ORM object ``row``: what was
    set on it, and for each column left unset its Python default (set on ``row`` too,
    so that it holds what is written). The primary key is left to the database."""
    mapper = inspect(type(row))
    state = inspect(row).dict
    values = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if prop.key in state:
            values[column.key] = state[prop.key]
        elif not column.primary_key:
            values[column.key] = _python_default(column)
            setattr(row, prop.key, values[column.key])
    return values


def _python_default(column):
    """The value a flush would insert into ``column`` left unset: its Python default
    (a constant or a function of nothing), else NULL. A default only the database
    knows (a server default, a SQL expression) is refused: the object would not hold
    the value that was written."""
    default = column.default
    if default is None:
        if column.server_default is not None:
            raise TypeError(f"set {column} before writing it so (it has a server default only)")
        return None
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)
    raise TypeError(f"set {column} before writing it so (its default is a SQL expression)")


def page_of(query: Select, *, page: int, per_page: int) -> tuple[list, int]:
    """``(rows of page number page, how many rows the query has in all)``; ``query``
    carries its order, page 1 is the first."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)).all()
    return list(items), total


def flush_or_conflict(message=None, *, fields: dict | None = None) -> None:
    """Flush in a savepoint. When the database refuses a row (a unique key a concurrent
    request took first), only the savepoint is rolled back and :class:`Conflict` is
    raised with ``message`` and ``fields`` (the default message without one)."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(message, fields=fields) from exc


def commit_unit(*, keep_loaded: bool = False) -> None:
    """Commit what stands now, outside the request edge, which otherwise commits once per
    request. Used only where a unit of work must be on record before the next step:
    the payment row before a gateway (Stripe) call and the gateway's answer right after
    it, one unit of a scheduled job, and a refused request's stored idempotent answer.

    ``keep_loaded``: the objects keep what they hold instead of being read again on
    their next use (SQLAlchemy expires them on commit). Only where what the caller does
    next either reads its rows afresh under a lock (a booking's next step:
    ``lock_booking``) or only shows them (a booking written under its lock just before)."""
    session = db.session()
    if not keep_loaded:
        session.commit()
        return
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


@contextmanager
def own_transaction():
    """A connection in a transaction of its own, committed at the end of the block
    whatever becomes of the request's (a failed login stays counted when the request
    rolls back; bookkeeping never waits for the request). When the application runs on
    one connection held in an outer transaction (the tests, which roll it back after each
    test), the block is a savepoint of it."""
    bind = db.engine
    if isinstance(bind, Connection):
        with bind.begin_nested():
            yield bind
    else:
        with bind.begin() as conn:
            yield conn


def keep_on_rollback(model, values: dict) -> None:
    """A row added to the request's session that must stand even if the request rolls
    back (the access log's record that a refused page still showed medical content):
    the request edge writes it again, in a transaction of its own, after a roll-back."""
    if has_request_context():
        g.setdefault("kept_rows", []).append((model, values))


def write_kept_rows(*, rolled_back: bool) -> None:
    """The request edge, once it has committed or rolled back: after a roll-back, the
    rows of :func:`keep_on_rollback` are written on their own."""
    kept = g.pop("kept_rows", [])
    if not rolled_back or not kept:
        return
    with own_transaction() as conn:
        for model, values in kept:
            conn.execute(insert(model).values(**values))


# --- a hot read through the driver ----------------------------------------------------------

class DriverRead:
    """A SELECT (or a write with RETURNING) built once, compiled once per database, and
    run on the driver's cursor (:meth:`_execute`): its parameters converted by their
    types and its columns by theirs, as SQLAlchemy would, but without the execution
    machinery, which cost a search about 1.4 ms of Python for its one statement and
    twenty rows. Rows come as named tuples (``row.column``).

    Only for statements whose parameters are all plain (no ``IN`` list expanded at
    execution): :func:`driver_read` runs the others through SQLAlchemy."""

    __slots__ = ("sql", "positions", "binds", "defaults", "types", "dialect", "converters",
                 "row")

    def __init__(self, statement, compiled, dialect):
        self.sql = compiled.string
        escaped = compiled.escaped_bind_names or {}
        #: bound parameters: key in the caller's dict -> (name in the SQL, processor)
        self.binds = {}
        self.defaults = {}
        for key, bind in compiled.binds.items():
            self.binds[key] = (escaped.get(key, key),
                               bind.type._cached_bind_processor(dialect))
            if not bind.required:
                self.defaults[key] = bind.effective_value
        self.positions = ([escaped.get(key, key) for key in compiled.positiontup]
                          if compiled.positional else None)
        # a SELECT's columns, or what an INSERT/UPDATE/DELETE returns
        columns = getattr(statement, "selected_columns", None)
        self.types = [column.type for column in
                      (columns if columns is not None else statement.exported_columns)]
        self.dialect = dialect
        # made at the first run, from the driver's description of the columns: the
        # named tuple of the rows, and each column's converter (as SQLAlchemy makes it)
        self.row = None
        self.converters = ()

    @staticmethod
    def possible(compiled) -> bool:
        return not any(bind.expanding or bind.literal_execute
                       for bind in compiled.binds.values())

    def run(self, connection, parameters: dict) -> list:
        values = {}
        for key, (name, process) in self.binds.items():
            value = parameters[key] if key in parameters else self.defaults[key]
            values[name] = process(value) if process is not None and value is not None \
                else value
        if self.positions is not None:
            values = tuple(values[name] for name in self.positions)
        description, fetched = self._execute(connection, values)
        if self.row is None:
            self.converters = tuple(
                (index, converter) for index, (type_, column) in
                enumerate(zip(self.types, description, strict=True))
                if (converter := type_._cached_result_processor(self.dialect, column[1]))
                is not None)
            base = namedtuple("Row", [column[0] for column in description], rename=True)
            # ``row._mapping`` as a SQLAlchemy row has it (a dict here)
            self.row = type("Row", (base,), {"__slots__": (),
                                             "_mapping": property(base._asdict)})
        make = self.row._make
        if not self.converters:
            return [make(row) for row in fetched]
        converted = []
        for row in fetched:
            row = list(row)
            for index, convert in self.converters:
                row[index] = convert(row[index])
            converted.append(make(row))
        return converted

    def _execute(self, connection, values) -> tuple:
        """The driver's description of the columns (at the first run only) and the rows.

        On the driver's own cursor: SQLAlchemy's ``exec_driver_sql`` costs half a
        millisecond more per search (an execution context, and a result whose columns
        it matches against the description each time). A driver's error still comes out
        as SQLAlchemy's (a lock timeout is a 503, a dropped connection is invalidated).
        While someone listens to the statements (a test counting them,
        ``bench.explain``), SQLAlchemy runs it, so that they hear of it."""
        dispatch = connection.dispatch
        if dispatch.before_cursor_execute or dispatch.after_cursor_execute:
            result = connection.exec_driver_sql(self.sql, values)
            description = result.cursor.description if self.row is None else None
            return description, result.fetchall()
        cursor = connection.connection.cursor()
        try:
            cursor.execute(self.sql, values)
            description = cursor.description if self.row is None else None
            return description, cursor.fetchall()
        except self.dialect.loaded_dbapi.Error as error:
            connection._handle_dbapi_exception(error, self.sql, values, cursor, None)
        finally:
            cursor.close()


_DRIVER_READS: dict = {}


def driver_read(statement, parameters: dict, *, flush: bool = False) -> list:
    """Run ``statement`` (a SELECT, or a write with RETURNING, built once and kept: it
    is remembered by identity) with ``parameters`` in the session's transaction: its
    rows, with the values SQLAlchemy would give and attribute access by column (and
    ``row._mapping``), through :class:`DriverRead` where it can, else through
    SQLAlchemy. ``flush``: write what the session holds first, as ``session.execute``
    does (its autoflush)."""
    if flush and db.session.autoflush:
        db.session.flush()
    connection = db.session.connection()
    dialect = connection.dialect
    key = (id(statement), dialect.name)
    entry = _DRIVER_READS.get(key)
    if entry is None or entry[0] is not statement:
        compiled = statement.compile(dialect=dialect)
        read = DriverRead(statement, compiled, dialect) if DriverRead.possible(compiled) \
            else None
        entry = _DRIVER_READS[key] = (statement, read)
    if entry[1] is None:
        return connection.execute(statement, parameters).all()
    return entry[1].run(connection, parameters)
