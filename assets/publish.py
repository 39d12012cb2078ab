"""Reports layer: the published Parquet marts and the static HTML reports, put in place only when complete."""

import json
import os
import shutil
from pathlib import Path

import duckdb
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
    description=(
        "Every marts.mart_<name> table as <name>.parquet with manifest.json (fingerprint, code, run), written "
        "into this run's publication; DIR/marts/ shows them once reports/site has switched the publication in"
    ),
    pool="duckdb",
)
def published_marts(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    paths = warehouse.paths
    marts = publication.publication_dir(paths, context.run.run_id) / "marts"
    shutil.rmtree(marts, ignore_errors=True)  # a re-executed step starts clean
    with warehouse.connect() as con:
        counts = publication.export_marts(con, paths, marts)
        stamp = publication.manifest(con, context.run.run_id)
    (marts / "manifest.json").write_text(json.dumps(stamp, indent=2), encoding="utf-8")
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
    description=(
        "The national report per year, a report per municipality and year, the index and downloads; then the "
        "run's marts and reports are published together in one atomic switch (pipelines/publication.py)"
    ),
)
def site(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    from reports.render import render_site

    paths = warehouse.paths
    run_id = context.run.run_id
    new = publication.publication_dir(paths, run_id)
    marts = new / "marts"
    if not (marts / "manifest.json").exists():  # site materialised alone: re-render the published marts
        publication.copy_current_marts(paths, marts)
    stamp = json.loads((marts / "manifest.json").read_text(encoding="utf-8"))
    # A failed ERROR check on a mart withholds the years it concerns (checks.parquet names them), or all.
    withheld = withheld_years(marts / "checks.parquet")
    if None in withheld:
        raise Failure(
            f"publication stopped: {withheld[None]} (the previous publication stays; this run's marts are in "
            f"{marts}/checks.parquet until the next run)"
        )
    for year, reason in sorted(withheld.items()):
        context.log.error(f"{year} not published: {reason} (see DIR/marts/checks.parquet)")
    # The renderer reads a public copy: withheld years out, personal data out.
    source = publishable_marts(marts, new / "public", {year for year in withheld if year is not None})
    strip_personal_data(source)
    shutil.rmtree(new / "reports", ignore_errors=True)
    try:
        pages = render_site(source, new / "reports", stamp)
    finally:
        shutil.rmtree(source, ignore_errors=True)
    publication.publish(paths, new)
    index = paths.reports / "index.html"
    context.log.info(f"report: {index}")
    return MaterializeResult(
        metadata={
            "pages": len(pages),
            "index": MetadataValue.path(str(index)),
            "withheld_years": MetadataValue.json({str(y): r for y, r in withheld.items()}),
        }
    )


# A value quoted inside a reason: "fakturadato 'Jens Hansen' is not a date".
QUOTED_VALUE = r"'[^']*'"


def strip_personal_data(marts: Path) -> None:
    """What the renderer sees may be published: no raw record, and no value quoted inside a reason.

    A shifted column can put an employee's name where a date or amount belongs, and the reason quotes it
    (docs/metode.md "Persondata"). The internal DIR/marts/quarantine.parquet keeps both.
    """
    path = marts / "quarantine.parquet"
    if not path.exists():
        return
    stripped = path.with_name(".quarantine.parquet")
    with duckdb.connect() as con:
        columns = {
            r[0] for r in con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
        }
        selected = [c for c in ("source_file", "line_number", "year") if c in columns]
        if "reason" in columns:
            selected.append("regexp_replace(reason, $pattern, '''…''', 'g') as reason")
        target = "'" + stripped.as_posix().replace("'", "''") + "'"
        con.execute(
            f"copy (select {', '.join(selected) or 'count(*) as rows'} from read_parquet($path)) "
            f"to {target} (format parquet)",
            {"pattern": QUOTED_VALUE, "path": str(path)},
        )
    os.replace(stripped, path)
