"""Staging, intermediate and marts layers: one asset per SQL file, dependencies read from the SQL itself.

sql/<layer>/<table>.sql makes <layer>.<table>, asset key [<layer>, <table>], asset group <layer>.
The tables are one Dagster step (a subsettable multi-asset, as dagster-dbt runs a dbt project): it builds the
selected tables in dependency order on one connection and reports each table's materialization. A step per
table cost ~70 ms of Dagster events and set-up each, about 3 s a run for ~45 tables, most of a monthly run's
SQL time.
"""

import time
from pathlib import Path

import duckdb
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from pipelines import progress
from pipelines.progress import TenthsLog
from pipelines.resources import Warehouse
from pipelines.warehouse import (
    incremental_state,
    materialise_sql,
    ordered_sql_files,
    sql_dependencies,
    sql_table_name,
)

SQL_LAYERS = ("staging", "intermediate", "marts")
SQL_FILES = ordered_sql_files(SQL_LAYERS)


class SqlFileError(RuntimeError):
    """A SQL file failed; the message names the file and DuckDB's error."""


def _description(path: Path) -> str:
    """The SQL file's leading comment block, its lines kept (the UI renders it as Markdown: "* " lines are a
    list); comments further down explain the SQL and are not part of it."""
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        text = line[3:] if line.startswith("-- ") else line[2:]
        if not text.startswith("materialized:"):
            header.append(text.rstrip())
    return "\n".join(header) or path.stem


def _key(path: Path) -> AssetKey:
    return AssetKey(list(sql_table_name(path)))


def _spec(path: Path) -> AssetSpec:
    return AssetSpec(
        _key(path),
        group_name=path.parent.name,
        deps=[AssetKey(list(dep)) for dep in sorted(sql_dependencies(path))],
        kinds={"duckdb", "sql"},
        description=_description(path),
        metadata={"sql": MetadataValue.path(str(path))},
    )


def _preview(con: duckdb.DuckDBPyConnection, layer: str, table: str, limit: int = 5) -> str | None:
    """The table's first rows as a Markdown table (None when it has 30 columns or more: unreadable in the UI)."""
    result = con.execute(f"select * from {layer}.{table} limit {limit}")
    columns = [d[0] for d in result.description]
    if len(columns) >= 30:
        return None

    def cell(value: object) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in result.fetchall()]
    return "\n".join(lines)


@multi_asset(specs=[_spec(path) for path in SQL_FILES], can_subset=True, name="sql_tables", pool="duckdb")
def sql_tables(context: AssetExecutionContext, warehouse: Warehouse):
    selected = context.selected_asset_keys
    to_build = [path for path in SQL_FILES if _key(path) in selected]
    seconds: dict[str, float] = {}
    tenths = TenthsLog("SQL tables", "tables", eta=False)  # their sizes differ too much for an ETA
    with warehouse.connect() as con:
        for built, path in enumerate(to_build):
            layer, table = sql_table_name(path)
            # the live bar names the table being built; a plain line, the table just built
            live = progress.show(
                "SQL tables", built, len(to_build), f"{built}/{len(to_build)}: {layer}.{table}"
            )
            started = time.perf_counter()
            try:
                rows = materialise_sql(con, path)
            except Exception as error:
                first_line = (
                    str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                )
                raise SqlFileError(f"{layer}.{table} (sql/{layer}/{path.name}): {first_line}") from error
            seconds[f"{layer}.{table}"] = time.perf_counter() - started
            if not live:
                tenths.log(built + 1, len(to_build), f"{layer}.{table}", context.log.info)
            updated = incremental_state(con, layer, table) or {}  # an incremental table: what this run added
            # a view has no preview: its first rows can cost its whole join (int_invoice_lines: the 11 M copies)
            preview = _preview(con, layer, table) if rows is not None else None
            yield MaterializeResult(
                asset_key=_key(path),
                metadata={
                    **({"rows": rows} if rows is not None else {"materialized": "view"}),
                    **{key: value for key, value in updated.items() if value is not None},
                    "seconds": round(seconds[f"{layer}.{table}"], 3),
                    **({"preview": MetadataValue.md(preview)} if preview else {}),
                },
            )
    progress.show("SQL tables", len(to_build), len(to_build), f"{len(to_build)}/{len(to_build)}")
    context.log.info(tables_summary(seconds))


def tables_summary(seconds: dict[str, float]) -> str:
    """The step's closing log line: how many tables, their seconds in SQL (the step also stores each table's
    materialization and preview: its own time is longer), the five slowest (`make bench` prints it)."""
    slowest = sorted(seconds.items(), key=lambda item: -item[1])[:5]
    return f"{len(seconds)} tables in {sum(seconds.values()):.1f} s of SQL; slowest: " + ", ".join(
        f"{name} {spent:.1f} s" for name, spent in slowest
    )
