"""The DuckDB warehouse: connections, SQL files and the reference tables."""

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.settings import REFERENCE_DIR, SQL_DIR, memory_limit

LAYERS = ("reference", "ingest", "staging", "intermediate", "marts")

# Static reference tables shipped with the project: file stem -> table in schema `reference`.
STATIC_REFERENCE = {
    "kommuner": "kommuner",
    "db07_hovedgrupper": "db07_hovedgrupper",
    "kontoplan_arter": "kontoplan_arter",
    "unspsc_segmenter": "unspsc_segmenter",
    "transaktionsomkostninger": "transaktionsomkostninger",
}


def sql_literal(text: str) -> str:
    """A SQL string literal, for the few places a value cannot be bound (COPY targets, table-function files)."""
    return "'" + text.replace("'", "''") + "'"


def open_warehouse(path: Path | str = ":memory:", threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse with every layer's schema and the project's macros. Connections to the
    same file in one process share one DuckDB instance (and its buffer pool) while any of them is open."""
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config={"memory_limit": memory_limit()})
    try:
        if threads:
            con.execute(f"set threads = {int(threads)}")
        con.execute("set preserve_insertion_order = true")
        con.execute("set enable_progress_bar = false")
        for layer in LAYERS:
            con.execute(f"create schema if not exists {layer}")
        _ensure_macros(con)
    except BaseException:
        con.close()
        raise
    return con


def _ensure_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros of sql/macros.sql unless the database holds this very version of them (a run's steps
    open ~50 connections to one instance; the macros are stored in the database)."""
    text = (SQL_DIR / "macros.sql").read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    held = con.execute(
        "select macro_definition from duckdb_functions() where function_name = 'ehandel_macros_version' "
        "and database_name = current_database()"
    ).fetchall()
    if held and digest in str(held[0][0]):
        return
    for statement in split_statements(text):
        con.execute(statement)
    con.execute(f"create or replace macro ehandel_macros_version() as '{digest}'")


@contextmanager
def connect(path: Path | str = ":memory:", threads: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """open_warehouse, always closed."""
    con = open_warehouse(path, threads)
    try:
        yield con
    finally:
        con.close()


def split_statements(text: str) -> list[str]:
    without_comments = re.sub(r"--[^\n]*", "", text)
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", without_comments) if s.strip()]


def sql_table_name(path: Path) -> tuple[str, str]:
    """sql/<layer>/<table>.sql makes <layer>.<table>."""
    return path.parent.name, path.stem


def materialise_sql(con: duckdb.DuckDBPyConnection, path: Path, params: dict | None = None) -> int | None:
    """Create or replace the table (or view) of one SQL file (its query ends in `select * from final`).

    The first line may say how the file is materialised:
    - `-- materialized: view`: a view, where a table would only copy rows;
    - `-- materialized: incremental by file_id of <invoices|orders>`: a table of per-content rows (a content's
      rows depend on its staged lines and the reference tables only), kept current content by content;
    - `-- materialized: incremental by kommunekode`: a table whose rows of a municipality depend only on that
      municipality's deliveries and the reference tables, kept current municipality by municipality
      (both: materialise_incremental).
    Returns the table's row count; None for a view (counting it would evaluate the whole view).
    """
    schema, table = sql_table_name(path)
    text = path.read_text(encoding="utf-8")
    first_line = text.lstrip().splitlines()[0] if text.strip() else ""
    kind = "view" if first_line.startswith("-- materialized: view") else "table"
    query = text.strip().rstrip(";")
    # a table that became a view (or a view that became a table) since the warehouse was last built
    other = "table" if kind == "view" else "view"
    existing = con.execute(
        f"select count(*) from duckdb_{other}s() where database_name = current_database() and schema_name = ? "
        f"and {other}_name = ? and not internal",
        [schema, table],
    ).fetchone()
    if existing and existing[0]:
        con.execute(f"drop {other} {schema}.{table}")
    if first_line.startswith("-- materialized: incremental"):
        materialise_incremental(con, path, query)
    else:
        con.execute(f"create or replace {kind} {schema}.{table} as {query}", params or None)
    if kind == "view":
        return None
    row = con.execute(f"select count(*) from {schema}.{table}").fetchone()
    return int(row[0]) if row else 0


# An incremental table is kept current unit by unit: a unit is a content (file_id) or a municipality
# (kommunekode). `-- materialized: incremental by file_id of <kind>` or `-- materialized: incremental by kommunekode`.
INCREMENTAL = re.compile(
    r"-- materialized: incremental by (?:file_id of (?P<kind>invoices|orders)|kommunekode)\b"
)
# The current deliveries: every content whose staged lines are current, with its municipality, and the name and
# time of its first delivery, which decide the winning copy of a document delivered twice (METHODS 1).
CURRENT_DELIVERIES = "select file_id, kommunekode, source_file, delivered_at from staging.stg_files"
# What changes a unit: a content's rows depend on its bytes only; a municipality's on its contents and on the
# names and times of their deliveries.
COMPARED = {"file_id": "file_id", "kommunekode": "file_id, kommunekode, source_file, delivered_at"}
# More changed units than this and the table is rebuilt: one pass beats a long list of units.
MAX_CHANGED = {"file_id": 2000, "kommunekode": 20}
# How each incremental table was last brought up to date (asset metadata, tests), and the deliveries it was
# computed from (a content may give no row: one without goods lines has no categories). A cache: when its shape
# is not this one, it is dropped and every incremental table is rebuilt.
INCREMENTAL_STATE = "intermediate.incremental_state"
INCREMENTAL_DELIVERIES = "intermediate.incremental_deliveries"
STATE_COLUMNS = {
    INCREMENTAL_STATE: "table_name varchar primary key, fingerprint varchar, unit varchar, rebuilt boolean, "
    "changed_units integer, removed_rows bigint, updated_at timestamp with time zone",
    INCREMENTAL_DELIVERIES: "table_name varchar, file_id varchar, kommunekode varchar, source_file varchar, "
    "delivered_at timestamp",
}


def _ensure_incremental_state(con: duckdb.DuckDBPyConnection) -> None:
    expected = [column.split()[0] for column in STATE_COLUMNS[INCREMENTAL_STATE].split(", ")]
    held = [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_schema = 'intermediate' "
            "and table_name = 'incremental_state' order by ordinal_position"
        ).fetchall()
    ]
    if held and held != expected:
        forget_incremental_tables(con)
    for table, columns in STATE_COLUMNS.items():
        con.execute(f"create table if not exists {table} ({columns})")


def materialise_incremental(con: duckdb.DuckDBPyConnection, path: Path, query: str) -> None:
    """Keep an incremental table current by recomputing only the units whose deliveries changed.

    A unit's rows (the query's column file_id or kommunekode) must depend only on the unit's own deliveries and
    the reference tables. The units that changed since the table was last brought up to date (COMPARED: a content
    added or withdrawn; for a municipality also a delivery renamed or re-dated) lose their rows, which are
    computed again with the units named in the query, so that DuckDB pushes them down to the scans (the file_key
    zone maps of the ingest tables). The changed units are also listed in the variable that `in_changed_units`
    (sql/macros.sql) reads: DuckDB materialises a CTE read twice before it applies the outer filter, so the SQL
    can name them where it reads its inputs. The table is rebuilt from scratch when its fingerprint
    changes (_incremental_fingerprint), when many units changed, or after the ingest tables were read again
    (forget_incremental_tables).
    """
    schema, table = sql_table_name(path)
    name = f"{schema}.{table}"
    match = INCREMENTAL.match(query.lstrip())
    if not match:
        raise ValueError(
            f"{path}: the first line must be '-- materialized: incremental by file_id of <kind>' "
            "or '-- materialized: incremental by kommunekode'"
        )
    unit = "file_id" if match["kind"] else "kommunekode"
    current = CURRENT_DELIVERIES + (f" where kind = '{match['kind']}'" if match["kind"] else "")
    fingerprint = _incremental_fingerprint(con, path, query)
    _ensure_incremental_state(con)
    stored = con.execute(
        f"select fingerprint from {INCREMENTAL_STATE} where table_name = ?", [name]
    ).fetchall()
    changed = None  # None: rebuild
    if table_exists(con, schema, table) and stored == [(fingerprint,)]:
        now = f"select {COMPARED[unit]} from ({current})"
        before = (
            f"select {COMPARED[unit]} from {INCREMENTAL_DELIVERIES} where table_name = {sql_literal(name)}"
        )
        changed = [
            row[0]
            for row in con.execute(
                f"select distinct {unit} from (({now} except {before}) union all ({before} except {now})) order by 1"
            ).fetchall()
        ]
    rebuilt = changed is None or len(changed) > MAX_CHANGED[unit]
    removed = None
    con.execute("begin")
    try:
        if rebuilt:
            con.execute(f"create or replace table {name} as {query}")
        elif changed:
            named = ", ".join(sql_literal(str(value)) for value in changed)
            (removed,) = con.execute(f"delete from {name} where {unit} in ({named})").fetchall()[0]
            con.execute("set variable changed_units = ?", [[str(value) for value in changed]])
            try:
                con.execute(f"insert into {name} select * from ({query}) where {unit} in ({named})")
            finally:
                con.execute("reset variable changed_units")
        con.execute(f"delete from {INCREMENTAL_DELIVERIES} where table_name = ?", [name])
        con.execute(f"insert into {INCREMENTAL_DELIVERIES} select ?, * from ({current})", [name])
        con.execute(
            f"insert or replace into {INCREMENTAL_STATE} values (?, ?, ?, ?, ?, ?, now())",
            [name, fingerprint, unit, rebuilt, None if rebuilt else len(changed or []),
             None if rebuilt else removed or 0],
        )  # fmt: skip
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where database_name = current_database() and schema_name = ? "
            "and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def incremental_state(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict | None:
    """How an incremental table was last brought up to date: rebuilt, or how many units changed (contents or
    municipalities) and how many rows left with them."""
    if not table_exists(con, *INCREMENTAL_STATE.split(".")):
        return None
    found = con.execute(
        f"select unit, rebuilt, changed_units, removed_rows from {INCREMENTAL_STATE} where table_name = ?",
        [f"{schema}.{table}"],
    ).fetchall()
    if not found:
        return None
    unit, rebuilt, changed, removed_rows = found[0]
    changed_key = "changed_contents" if unit == "file_id" else "changed_municipalities"
    return {"rebuilt": bool(rebuilt), changed_key: changed, "removed_rows": removed_rows}


def forget_incremental_contents(con: duckdb.DuckDBPyConnection, file_ids: list[str]) -> None:
    """Every incremental table computes these contents (and their municipalities) again on its next update, as if
    they had just arrived: they leave the deliveries the tables were last computed from."""
    if table_exists(con, *INCREMENTAL_DELIVERIES.split(".")):
        con.execute(
            f"delete from {INCREMENTAL_DELIVERIES} where file_id in (select unnest(?::varchar[]))", [file_ids]
        )


def forget_incremental_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every incremental table is rebuilt by its next run (e.g. the ingest tables were read again from DIR/raw)."""
    for table in STATE_COLUMNS:
        con.execute(f"drop table if exists {table}")


def _incremental_fingerprint(con: duckdb.DuckDBPyConnection, path: Path, query: str) -> str:
    """What an incremental table's rows depend on besides the deliveries: the SQL of every table upstream of it (and the
    macros and the ingest SQL that typed the lines), and the content of every reference table upstream."""
    made_by = {sql_table_name(p): p for p in sql_files(("staging", "intermediate"))}
    upstream: set[tuple[str, str]] = set()
    pending = set(sql_dependencies(path))
    while pending:
        table = pending.pop()
        upstream.add(table)
        if table in made_by:
            pending |= sql_dependencies(made_by[table]) - upstream
    parts = [query]
    for source in (SQL_DIR / "macros.sql", *sql_files(("ingest",))):
        parts.append(source.read_text(encoding="utf-8"))
    for schema, table in sorted(upstream):
        if (schema, table) in made_by:
            parts.append(made_by[(schema, table)].read_text(encoding="utf-8"))
        elif schema == "reference":
            (digest,) = con.execute(
                f"select md5(coalesce(string_agg(t::varchar, chr(10) order by t::varchar), '')) from {schema}.{table} t"
            ).fetchall()[0]
            parts.append(f"{table}:{digest}")
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def load_static_reference(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Load the reference tables that ship with the project, all columns as text."""
    counts = {}
    for stem, table in STATIC_REFERENCE.items():
        path = REFERENCE_DIR / f"{stem}.csv"
        con.execute(
            f"create or replace table reference.{table} as "
            "select * from read_csv(?, header = true, all_varchar = true, delim = ',', quote = '\"')",
            [str(path)],
        )
        counts[table] = int(con.execute(f"select count(*) from reference.{table}").fetchone()[0])  # type: ignore[index]
    return counts


# --- the SQL graph: sql/<layer>/<table>.sql, dependencies read from the `schema.table` names it uses ---

_REFERENCE = re.compile(r"\b(reference|ingest|staging|intermediate|marts)\.([a-z_][a-z0-9_]*)\b")


def sql_files(layers: tuple[str, ...] = ("staging", "intermediate", "marts")) -> list[Path]:
    return [path for layer in layers for path in sorted((SQL_DIR / layer).glob("*.sql"))]


def sql_dependencies(path: Path) -> set[tuple[str, str]]:
    """The tables a SQL file reads, as (schema, table), itself excluded."""
    text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
    return {m.groups() for m in _REFERENCE.finditer(text)} - {sql_table_name(path)}  # type: ignore[misc]


def ordered_sql_files(layers: tuple[str, ...] = ("staging", "intermediate", "marts")) -> list[Path]:
    """The SQL files of the given layers in an order where every table comes after what it reads."""
    files = {sql_table_name(p): p for p in sql_files(layers)}
    ordered: list[Path] = []
    seen: set[tuple[str, str]] = set()

    def visit(key: tuple[str, str], trail: tuple[tuple[str, str], ...] = ()) -> None:
        if key in seen or key not in files:
            return
        if key in trail:
            raise ValueError(f"cycle in sql/: {' -> '.join('.'.join(k) for k in (*trail, key))}")
        for dep in sorted(sql_dependencies(files[key])):
            visit(dep, (*trail, key))
        seen.add(key)
        ordered.append(files[key])

    for key in sorted(files):
        visit(key)
    return ordered


def load_delivered_reference(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """The supplier register and the agreements delivered in DIR/raw/reference/ (agreements optional)."""
    suppliers = folder / "leverandoerer.csv"
    if suppliers.exists():
        con.execute(
            """
            create or replace table reference.leverandoerer as
            select parse_cvr(cvr) as cvr, trim(navn) as navn,
                   regexp_replace(trim(branchekode), '\\D', '', 'g') as branchekode
            from read_csv(?, header = true, all_varchar = true, auto_detect = true)
            where parse_cvr(cvr) is not null
            qualify row_number() over (partition by parse_cvr(cvr) order by navn) = 1
            """,
            [str(suppliers)],
        )
    else:
        con.execute(
            "create or replace table reference.leverandoerer (cvr varchar, navn varchar, branchekode varchar)"
        )
    agreements = folder / "aftaler.csv"
    if agreements.exists():
        con.execute(
            """
            create or replace table reference.aftaler as
            select trim(aftalenummer) as aftalenummer, trim(navn) as navn, trim(indkoebskategori) as indkoebskategori,
                   parse_cvr(leverandoer_cvr) as leverandoer_cvr, parse_date(gyldig_fra) as gyldig_fra,
                   parse_date(gyldig_til) as gyldig_til
            from read_csv(?, header = true, all_varchar = true, auto_detect = true)
            """,
            [str(agreements)],
        )
    else:
        con.execute(
            "create or replace table reference.aftaler (aftalenummer varchar, navn varchar, "
            "indkoebskategori varchar, leverandoer_cvr varchar, gyldig_fra date, gyldig_til date)"
        )
    return {
        table: int(con.execute(f"select count(*) from reference.{table}").fetchone()[0])  # type: ignore[index]
        for table in ("leverandoerer", "aftaler")
    }
