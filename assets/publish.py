"""Reports layer: the published Parquet marts and the static HTML reports, put in place only when complete."""

import json
import shutil

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, MetadataValue, asset

from assets.checks import CHECKS_KEY, publishable_marts, withheld_years
from assets.sql_assets import SQL_LAYERS
from pipelines import publication
from pipelines.resources import Warehouse
from pipelines.warehouse import sql_files, sql_table_name

MART_KEYS = [AssetKey(list(sql_table_name(p))) for p in sql_files(SQL_LAYERS) if p.parent.name == "marts"]
MART_KEYS.append(CHECKS_KEY)  # marts.mart_checks (assets/checks.py) is published as checks.parquet


@asset(
    key=AssetKey(["reports", "published_marts"]),
    group_name="reports",
    deps=MART_KEYS,
    kinds={"parquet"},
    description="Every marts.mart_<name> table as DIR/marts/<name>.parquet, with manifest.json (fingerprint, code, run)",
    pool="duckdb",
)
def published_marts(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    paths = warehouse.paths
    staging = paths.marts / f".publishing-{context.run.run_id}"
    with warehouse.connect() as con:
        counts = publication.export_marts(con, paths, staging)
        stamp = publication.manifest(con, context.run.run_id)
    (staging / "manifest.json").write_text(json.dumps(stamp, indent=2), encoding="utf-8")
    publication.move_files_into_place(staging, paths.marts)
    return MaterializeResult(
        metadata={
            **{f"rows_{name}": rows for name, rows in counts.items()},
            "input_fingerprint": stamp["input_fingerprint"],
            "code_version": stamp["code_version"],
            "marts_dir": MetadataValue.path(str(paths.marts)),
        }
    )


@asset(
    key=AssetKey(["reports", "site"]),
    group_name="reports",
    deps=[published_marts],
    kinds={"html"},
    description="The national report per year, a report per municipality and year, the index and downloads",
)
def site(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    from reports.render import render_site

    paths = warehouse.paths
    stamp = json.loads((paths.marts / "manifest.json").read_text(encoding="utf-8"))
    new = paths.root / f".reports-{context.run.run_id}"
    # A failed ERROR check on a mart withholds the years it concerns (checks.parquet names them), or all.
    withheld = withheld_years(paths.marts / "checks.parquet")
    if None in withheld:
        raise Failure(f"publication stopped: {withheld[None]} (see DIR/marts/checks.parquet)")
    source = paths.marts
    for year, reason in sorted(withheld.items()):
        context.log.error(f"{year} not published: {reason} (see DIR/marts/checks.parquet)")
    if withheld:
        source = publishable_marts(paths.marts, paths.root / f".marts-{context.run.run_id}", set(withheld))
    try:
        pages = render_site(source, new, stamp)
    finally:
        if source != paths.marts:
            shutil.rmtree(source, ignore_errors=True)
    publication.swap_directory(new, paths.reports)
    index = paths.reports / "index.html"
    context.log.info(f"report: {index}")
    return MaterializeResult(
        metadata={
            "pages": len(pages),
            "index": MetadataValue.path(str(index)),
            "withheld_years": MetadataValue.json({str(y): r for y, r in withheld.items()}),
        }
    )
