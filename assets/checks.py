"""Data-quality checks in Dagster: the `marts/mart_checks` asset runs them, asset checks show them on their assets.

- File expectations run as files are loaded (assets/loading.py, assets/quality/files.py); an ERROR keeps the
  file out. `marts/mart_checks` summarises them per check over the files delivered now.
- After the marts: GX suites on the mart tables and the SQL checks of sql/checks/ (assets/quality/marts.py).
- Every evaluation of the run is a row of marts.mart_checks, published as DIR/marts/checks.parquet.
- `quality_checks` (a multi-asset check) reports each row as an AssetCheckResult on the asset it concerns, so
  the UI shows them on the ingest, intermediate and mart assets.
- Publication: a failed ERROR check on an intermediate or mart table withholds the years it concerns from the
  reports (`pipelines.publication.withheld_years`, used by reports/site and reports/year_report); WARN checks publish with a warning.
"""

import json

import duckdb
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset_check,
)

from assets.quality.marts import CHECKS_DIR, Selection, all_check_names
from pipelines.resources import Warehouse
from pipelines.warehouse import sql_dependencies, sql_files, sql_table_name

CHECKS_KEY = AssetKey(["marts", "mart_checks"])
CHECK_COLUMNS = (
    "run_id",
    "asset",
    "check_name",
    "engine",
    "severity",
    "passed",
    "description",
    "details",
    "years",
)
_MART_KEYS = [
    AssetKey(list(sql_table_name(p))) for p in sql_files(("marts",)) if sql_table_name(p)[1] != "mart_checks"
]
_CHECK_DEPS = sorted(
    {AssetKey(list(dep)) for path in CHECKS_DIR.glob("*.sql") for dep in sql_dependencies(path)}
    | set(_MART_KEYS)
    | {AssetKey(["ingest", "files"])},
    key=lambda k: k.to_user_string(),
)


def evaluate(con: duckdb.DuckDBPyConnection, only: Selection = None) -> list[dict]:
    """Evaluate the warehouse-level checks (`only`: those (asset 'layer/table', check_name)); nothing is written."""
    from assets.quality import marts as mart_checks

    return [
        *mart_checks.file_check_summaries(con, only),
        *mart_checks.run_mart_suites(con, only),
        *mart_checks.run_sql_checks(con, only),
    ]


def evaluate_all(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict]:
    """Run every warehouse-level check; (re)write marts.mart_checks with this run's evaluations."""
    evaluations = evaluate(con)
    rows = [(run_id, *(e[c] for c in CHECK_COLUMNS[1:])) for e in evaluations]
    con.execute("begin")
    try:
        con.execute("""
            create or replace table marts.mart_checks (
                run_id varchar, asset varchar, check_name varchar, engine varchar, severity varchar,
                passed boolean, description varchar, details varchar, years integer[])
        """)
        con.executemany("insert into marts.mart_checks values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return evaluations


@asset(
    key=CHECKS_KEY,
    group_name="marts",
    deps=_CHECK_DEPS,
    kinds={"duckdb", "great_expectations", "sql"},
    description="Every data-quality check of the run: one row per check (published as checks.parquet)",
    pool="duckdb",
)
def mart_checks(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as con:
        evaluations = evaluate_all(con, context.run.run_id)
    failed = [e for e in evaluations if not e["passed"]]
    for e in failed:
        log = context.log.error if e["severity"] == "ERROR" else context.log.warning
        log(f"{e['severity']} {e['asset']} {e['check_name']}: {e['description']} {e['details'][:300]}")
    return MaterializeResult(
        metadata={
            "checks": len(evaluations),
            "failed_error": sum(e["severity"] == "ERROR" for e in failed),
            "failed_warn": sum(e["severity"] == "WARN" for e in failed),
            "failed": MetadataValue.md(
                "\n".join(f"- {e['severity']} `{e['check_name']}`" for e in failed) or "none"
            ),
        }
    )


def _asset_key(asset_path: str) -> AssetKey:
    return AssetKey(asset_path.split("/"))


# What the severity does, in the UI beside each check (Dagster shows every check as non-blocking: the gate is ours).
def _severity_note(asset_path: str, severity: str) -> str:
    if severity == "WARN":
        return "WARN: published with a warning on the quality page"
    if asset_path.startswith("ingest/"):
        return "ERROR: a file failing it is kept out of the figures"
    return "ERROR: a failure withholds the years it concerns from the reports"


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            name,
            asset=_asset_key(asset_path),
            description=f"{description} [{_severity_note(asset_path, severity)}]",
            additional_deps=[CHECKS_KEY],
        )
        for asset_path, name, severity, description in all_check_names()
    ],
    can_subset=True,
    name="quality_checks",
    pool="duckdb",
)
def quality_checks(context: AssetCheckExecutionContext, warehouse: Warehouse):
    """Report the run's evaluations (marts.mart_checks) on the assets they concern. Checks run without
    marts/mart_checks in the run (the UI's "Execute" on a check, or a mart materialised alone with its checks) are
    evaluated here on the warehouse as it is now; marts.mart_checks keeps the evaluations of the last full run."""
    selected = context.selected_asset_check_keys
    reported = ("asset", "check_name", "engine", "severity", "passed", "description", "details")
    with warehouse.connect() as con:
        rows = con.execute(
            f"select {', '.join(reported)} from marts.mart_checks where run_id = ?", [context.run.run_id]
        ).fetchall()
        if not rows:
            only = {(key.asset_key.to_user_string(), key.name) for key in selected}
            rows = [tuple(e[c] for c in reported) for e in evaluate(con, only)]
    for asset_path, name, engine, severity, passed, description, details in rows:
        if AssetCheckKey(_asset_key(asset_path), name) not in selected:
            continue
        yield AssetCheckResult(
            asset_key=_asset_key(asset_path),
            check_name=name,
            passed=bool(passed),
            severity=AssetCheckSeverity.ERROR if severity == "ERROR" else AssetCheckSeverity.WARN,
            description=description,
            metadata={"engine": engine, "details": MetadataValue.json(json.loads(details))},
        )


# --- publication gate ------------------------------------------------------------------------------------
