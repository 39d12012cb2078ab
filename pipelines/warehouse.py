"""The DuckDB warehouse: connections, SQL files and the reference tables."""

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.settings import REFERENCE_DIR, SQL_DIR

LAYERS = ("reference", "ingest", "staging", "intermediate", "marts")

# Static reference tables shipped with the project: file stem -> table in schema `reference`.
STATIC_REFERENCE = {
    "kommuner": "kommuner",
    "db07_hovedgrupper": "db07_hovedgrupper",
    "kontoplan_arter": "kontoplan_arter",
    "unspsc_segmenter": "unspsc_segmenter",
    "transaktionsomkostninger": "transaktionsomkostninger",
}


# DuckDB's own default is 80% of the machine's memory; a national year stays within 6 GiB only when DuckDB is
# held to a budget and spills the rest to disk (next to the warehouse file). EHANDEL_MEMORY_LIMIT overrides.
DEFAULT_MEMORY_LIMIT = "4GB"


def sql_literal(text: str) -> str:
    """A SQL string literal, for the few places a value cannot be bound (COPY targets, table-function files)."""
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def connect(path: Path | str = ":memory:", threads: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse with every layer's schema and the project's macros; always closed."""
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    memory_limit = os.environ.get("EHANDEL_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", memory_limit, flags=re.IGNORECASE):
        raise ValueError(f"EHANDEL_MEMORY_LIMIT={memory_limit!r} is not a size such as 4GB")
    con = duckdb.connect(str(path), config={"memory_limit": memory_limit})
    try:
        if threads:
            con.execute(f"set threads = {int(threads)}")
        con.execute("set preserve_insertion_order = true")
        con.execute("set enable_progress_bar = false")
        for layer in LAYERS:
            con.execute(f"create schema if not exists {layer}")
        run_sql_file(con, SQL_DIR / "macros.sql")
        yield con
    finally:
        con.close()


def run_sql_file(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Execute every statement of a SQL file (statements end with ';' at a line end)."""
    for statement in split_statements(path.read_text(encoding="utf-8")):
        con.execute(statement)


def split_statements(text: str) -> list[str]:
    without_comments = re.sub(r"--[^\n]*", "", text)
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", without_comments) if s.strip()]


def sql_table_name(path: Path) -> tuple[str, str]:
    """sql/<layer>/<table>.sql makes <layer>.<table>."""
    return path.parent.name, path.stem


def materialise_sql(con: duckdb.DuckDBPyConnection, path: Path, params: dict | None = None) -> int | None:
    """Create or replace the table (or view) of one SQL file (its query ends in `select * from final`).

    A file whose first line is `-- materialized: view` makes a view: used where a table would only copy rows.
    Returns the table's row count; None for a view (counting it would evaluate the whole view).
    """
    schema, table = sql_table_name(path)
    text = path.read_text(encoding="utf-8")
    kind = "view" if text.lstrip().startswith("-- materialized: view") else "table"
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
    con.execute(f"create or replace {kind} {schema}.{table} as {query}", params or None)
    if kind == "view":
        return None
    row = con.execute(f"select count(*) from {schema}.{table}").fetchone()
    return int(row[0]) if row else 0


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
