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
      rows depend on its staged lines and the reference tables only), kept current content by content
      (materialise_per_file);
    - `-- materialized: incremental by kommunekode`: a table whose rows of a municipality depend only on that
      municipality's deliveries and the reference tables, recomputed for the municipalities whose deliveries
      changed (materialise_by_municipality).
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
    if first_line.startswith("-- materialized: incremental by kommunekode"):
        materialise_by_municipality(con, path, query)
    elif first_line.startswith("-- materialized: incremental"):
        materialise_per_file(con, path, query)
    else:
        con.execute(f"create or replace {kind} {schema}.{table} as {query}", params or None)
    if kind == "view":
        return None
    row = con.execute(f"select count(*) from {schema}.{table}").fetchone()
    return int(row[0]) if row else 0


# The contents of a kind ('invoices' or 'orders') whose staged lines are current.
CURRENT_FILES = "select file_id from staging.stg_files where kind = '{kind}'"
# Every current content with what a municipality's figures depend on besides its lines: its delivery's name and
# time decide which copy of a document delivered twice wins (METHODS 1).
CURRENT_DELIVERIES = "select file_id, kommunekode, source_file, delivered_at from staging.stg_files"
# More new contents than this and a per-file table is rebuilt: one pass beats a long list of contents. More
# changed municipalities than this and a per-municipality table is rebuilt.
MAX_NEW_FILES = 2000
MAX_CHANGED_MUNICIPALITIES = 20
# How each incremental table was last brought up to date (asset metadata, tests), and the deliveries it was
# computed from (a content may give no row: one without goods lines has no categories).
INCREMENTAL_STATE = "intermediate.incremental_state"
INCREMENTAL_DELIVERIES = "intermediate.incremental_deliveries"
PER_FILE = re.compile(r"-- materialized: incremental by file_id of (invoices|orders)\b")


def _ensure_incremental_state(con: duckdb.DuckDBPyConnection) -> None:
    # the state tables' names before 2026-11-28
    for older in ("intermediate.per_file_state", "intermediate.per_file_contents"):
        con.execute(f"drop table if exists {older}")
    con.execute(f"""
        create table if not exists {INCREMENTAL_STATE} (
            table_name varchar primary key, fingerprint varchar, rebuilt boolean, new_contents integer,
            changed_municipalities integer, removed_rows bigint, updated_at timestamp with time zone)
    """)
    con.execute(f"""
        create table if not exists {INCREMENTAL_DELIVERIES} (
            table_name varchar, file_id varchar, kommunekode varchar, source_file varchar, delivered_at timestamp)
    """)


def _record_state(
    con: duckdb.DuckDBPyConnection, name: str, fingerprint: str, rebuilt: bool, **counts
) -> None:
    con.execute(
        f"insert or replace into {INCREMENTAL_STATE} values (?, ?, ?, ?, ?, ?, now())",
        [name, fingerprint, rebuilt, counts.get("new_contents"), counts.get("changed_municipalities"),
         counts.get("removed_rows")],
    )  # fmt: skip


def _record_deliveries(con: duckdb.DuckDBPyConnection, name: str, current: str) -> None:
    con.execute(f"delete from {INCREMENTAL_DELIVERIES} where table_name = ?", [name])
    con.execute(f"insert into {INCREMENTAL_DELIVERIES} select ?, * from ({current})", [name])


def _stored_fingerprint(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    stored = con.execute(
        f"select fingerprint from {INCREMENTAL_STATE} where table_name = ?", [name]
    ).fetchall()
    return stored[0][0] if stored else None


def materialise_per_file(con: duckdb.DuckDBPyConnection, path: Path, query: str) -> None:
    """Keep a per-file table current without recomputing the contents it already holds.

    Rows of contents no longer current leave; only contents new since the last run are computed, found through
    the file_key zone maps of the ingest tables (the new contents are named in the query, so that DuckDB pushes
    them down to the scan). The table is rebuilt from scratch when its fingerprint changes (_incremental_fingerprint),
    when many contents are new, or after the ingest tables were read again (forget_incremental_tables).
    """
    schema, table = sql_table_name(path)
    name = f"{schema}.{table}"
    match = PER_FILE.match(query.lstrip())
    if not match:
        raise ValueError(
            f"{path}: the first line must be '-- materialized: incremental by file_id of <kind>'"
        )
    current = CURRENT_FILES.format(kind=match[1])
    fingerprint = _incremental_fingerprint(con, path, query)
    _ensure_incremental_state(con)
    computed = f"select file_id from {INCREMENTAL_DELIVERIES} where table_name = {sql_literal(name)}"
    new_files = (
        [row[0] for row in con.execute(f"{current} except {computed}").fetchall()]
        if table_exists(con, schema, table) and _stored_fingerprint(con, name) == fingerprint
        else None
    )
    rebuilt = new_files is None or len(new_files) > MAX_NEW_FILES
    removed = 0
    con.execute("begin")
    try:
        if rebuilt:
            con.execute(f"create or replace table {name} as {query}")
        else:
            (removed,) = con.execute(f"delete from {name} where file_id not in ({current})").fetchall()[0]
            if new_files:
                named = ", ".join(sql_literal(file_id) for file_id in new_files)
                con.execute(f"insert into {name} select * from ({query}) where file_id in ({named})")
        _record_deliveries(con, name, f"select * from ({CURRENT_DELIVERIES}) where file_id in ({current})")
        if rebuilt:
            _record_state(con, name, fingerprint, True)
        else:
            _record_state(
                con, name, fingerprint, False, new_contents=len(new_files or []), removed_rows=removed
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def materialise_by_municipality(con: duckdb.DuckDBPyConnection, path: Path, query: str) -> None:
    """Keep a per-municipality table current by recomputing only the municipalities whose deliveries changed.

    A municipality's rows (the query's column kommunekode) must depend only on its own deliveries and the
    reference tables: a content added or withdrawn, or a delivery renamed or re-dated (which can change the
    winning copy of a document), changes its municipality. Its rows are deleted and computed again with the
    municipality named in the query, which DuckDB pushes down to the scans. The table is rebuilt from scratch
    when its fingerprint changes (the SQL upstream of it, the reference tables it reads) or many changed.
    """
    schema, table = sql_table_name(path)
    name = f"{schema}.{table}"
    fingerprint = _incremental_fingerprint(con, path, query)
    _ensure_incremental_state(con)
    recorded = (
        f"select file_id, kommunekode, source_file, delivered_at from {INCREMENTAL_DELIVERIES} "
        f"where table_name = {sql_literal(name)}"
    )
    changed = (
        [
            row[0]
            for row in con.execute(f"""
                select distinct kommunekode from (
                    (({CURRENT_DELIVERIES}) except ({recorded})) union all (({recorded}) except ({CURRENT_DELIVERIES})))
                order by kommunekode
            """).fetchall()
        ]
        if table_exists(con, schema, table) and _stored_fingerprint(con, name) == fingerprint
        else None
    )
    rebuilt = changed is None or len(changed) > MAX_CHANGED_MUNICIPALITIES
    removed = 0
    con.execute("begin")
    try:
        if rebuilt:
            con.execute(f"create or replace table {name} as {query}")
        elif changed:
            named = ", ".join(sql_literal(str(kommunekode)) for kommunekode in changed)
            (removed,) = con.execute(f"delete from {name} where kommunekode in ({named})").fetchall()[0]
            con.execute(f"insert into {name} select * from ({query}) where kommunekode in ({named})")
        _record_deliveries(con, name, CURRENT_DELIVERIES)
        if rebuilt:
            _record_state(con, name, fingerprint, True)
        else:
            _record_state(
                con, name, fingerprint, False, changed_municipalities=len(changed or []), removed_rows=removed
            )
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
    """How an incremental table was last brought up to date: rebuilt, or what was added and removed."""
    if not table_exists(con, *INCREMENTAL_STATE.split(".")):
        return None
    found = con.execute(
        f"select rebuilt, new_contents, changed_municipalities, removed_rows from {INCREMENTAL_STATE} "
        "where table_name = ?",
        [f"{schema}.{table}"],
    ).fetchall()
    if not found:
        return None
    rebuilt, new_contents, changed_municipalities, removed_rows = found[0]
    return {
        "rebuilt": bool(rebuilt),
        "new_contents": new_contents,
        "changed_municipalities": changed_municipalities,
        "removed_rows": removed_rows,
    }


def forget_incremental_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every incremental table is rebuilt by its next run (the ingest tables were read again from DIR/raw)."""
    con.execute(f"drop table if exists {INCREMENTAL_STATE}")


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
