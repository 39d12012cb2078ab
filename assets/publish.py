"""Reports layer: the published Parquet marts and the static HTML reports, put in place only when complete."""

import json

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from assets.sql_assets import SQL_LAYERS
from pipelines import publication
from pipelines.resources import Warehouse
from pipelines.warehouse import sql_files, sql_table_name

MART_KEYS = [AssetKey(list(sql_table_name(p))) for p in sql_files(SQL_LAYERS) if p.parent.name == "marts"]


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
    pages = render_site(paths.marts, new, stamp)
    publication.swap_directory(new, paths.reports)
    index = paths.reports / "index.html"
    context.log.info(f"report: {index}")
    return MaterializeResult(metadata={"pages": len(pages), "index": MetadataValue.path(str(index))})
