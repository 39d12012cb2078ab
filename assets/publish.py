"""Reports layer: the published Parquet marts and the static HTML reports, put in place only when complete."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.checks import CHECKS_KEY
from assets.sql_assets import SQL_LAYERS
from pipelines import progress, publication
from pipelines.automation import REPORT_YEARS
from pipelines.progress import TenthsLog
from pipelines.resources import Warehouse
from pipelines.settings import DataDir
from pipelines.warehouse import sql_files, sql_table_name

YEAR_REPORT_KEY = AssetKey(["reports", "year_report"])

MART_KEYS = [AssetKey(list(sql_table_name(p))) for p in sql_files(SQL_LAYERS) if p.parent.name == "marts"]
MART_KEYS.append(CHECKS_KEY)  # marts.mart_checks (assets/checks.py) is published as checks.parquet


@asset(
    key=AssetKey(["reports", "published_marts"]),
    group_name="reports",
    deps=MART_KEYS,
    kinds={"parquet"},
    description=(
        "Every `marts.mart_<name>` table as `<name>.parquet` with `manifest.json` (fingerprint, code, run), written "
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
        "The national report per year, a report per municipality and year, the index and downloads, with the "
        "published figures this run revises (`revisions.parquet`); then the run's marts and reports are published "
        "together in one atomic switch (pipelines/publication.py)"
    ),
)
def site(
    context: AssetExecutionContext, warehouse: Warehouse
) -> Iterator[MaterializeResult | AssetMaterialization]:
    from reports.render import render_site

    paths = warehouse.paths
    run_id = context.run.run_id
    new = publication.publication_dir(paths, run_id)
    marts = new / "marts"
    if not (marts / "manifest.json").exists():  # site materialised alone: re-render the published marts
        publication.copy_current_marts(paths, marts)
    stamp = json.loads((marts / "manifest.json").read_text(encoding="utf-8"))
    # A failed ERROR check on a mart withholds the years it concerns (checks.parquet names them), or all.
    withheld = publication.withheld_years(marts / "checks.parquet")
    if None in withheld:
        raise Failure(
            f"publication stopped: {withheld[None]} (the previous publication stays; this run's marts are in "
            f"{marts}/checks.parquet until the next run)"
        )
    # The renderer reads the public copy: withheld years held back (as the current publication, the one this run
    # replaces, shows them) or out, personal data out. It stays in the publication: the next run's "before".
    previous = publication.previous_public_copy(publication.current_publication(paths), new / ".previous")
    source = publication.public_copy(marts, new / publication.PUBLIC, withheld, previous)
    held_back = publication.held_back_years(source)
    notes = {
        year: reason + (f"; held back: its pages show the figures published {held_back[year]['generated_at']}"
                        if year in held_back else "")
        for year, reason in sorted(withheld.items())
    }  # fmt: skip
    for year, note in notes.items():
        context.log.error(f"{year} not published anew: {note} (see DIR/marts/checks.parquet)")
    revised = publication.record_revisions(previous, source, marts)
    if previous is not None:
        shutil.rmtree(previous)
    if revised:
        context.log.info(f"{revised} published figures revised (DIR/marts/revisions.parquet)")
    shutil.rmtree(new / "reports", ignore_errors=True)
    tenths = TenthsLog("report pages", "pages")

    def on_page(done: int, total: int) -> None:
        if not progress.show("report pages", done, total, f"{done}/{total}"):
            tenths.log(done, total, "", context.log.info)

    pages = render_site(source, new / "reports", stamp, on_page=on_page)
    publication.publish(paths, new)
    index = paths.reports / "index.html"
    context.log.info(f"report: {index} ({len(pages)} pages with the index and the method page)")
    per_year = pages_per_year(new / "reports", pages)
    links = {"index": MetadataValue.path(str(index))}
    if per_year:
        links["latest_national_page"] = MetadataValue.path(str(paths.reports / max(per_year) / "index.html"))
    yield MaterializeResult(
        metadata={
            "pages": len(pages),
            **links,
            "pages_per_year": MetadataValue.md(
                "| year | pages |\n|---|---|\n" + "".join(f"| {y} | {n} |\n" for y, n in per_year.items())
            ),
            "withheld_years": MetadataValue.md("".join(f"- {y}: {n}\n" for y, n in notes.items()) or "none"),
            "publication": new.name,
            "revised_figures": revised,
        }
    )
    # Each year published here is a materialisation of its reports/year_report partition too: the partitions page
    # shows which years are published (and by which run), not "Missing" until a year is re-published alone.
    # After reports/site's own event, so that the UI does not take the years for older than their upstream.
    partitions = set(REPORT_YEARS.get_partition_keys())
    for year, count in per_year.items():
        if year in partitions:
            yield AssetMaterialization(
                asset_key=YEAR_REPORT_KEY,
                partition=year,
                description="published with every year by reports/site",
                metadata={"pages": count, "publication": new.name},
            )


@asset(
    key=YEAR_REPORT_KEY,
    group_name="reports",
    deps=[site],
    partitions_def=REPORT_YEARS,
    kinds={"html"},
    description=(
        "One year's reports (`DIR/reports/<year>/`: the national page and every municipality's page) re-rendered "
        "from the published marts and published atomically with every other page kept as it is: the yearly "
        "publication and backfills of a year (job publish_year)"
    ),
)
def year_report(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    paths = warehouse.paths
    year = int(context.partition_key)
    run_id = context.run.run_id
    if publication.current_publication(paths) is None:
        raise Failure(f"nothing is published in {paths.root} yet: run refresh_warehouse first")
    new = publication.publication_dir(paths, run_id, year)
    shutil.rmtree(new, ignore_errors=True)  # a re-executed step starts clean
    try:
        pages, stamp = render_year(paths, new, year, run_id)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)  # nothing of a year that is not published stays behind
        raise
    publication.publish(paths, new)
    national = paths.reports / str(year) / "index.html"
    context.log.info(f"report {year}: {national}")
    return MaterializeResult(
        metadata={
            "national_page": MetadataValue.path(str(national)),
            "index": MetadataValue.path(str(paths.reports / "index.html")),
            "pages": len(pages),
            "municipality_pages": sum(p.name != "index.html" for p in pages),
            "input_fingerprint": stamp["input_fingerprint"],
            "publication": new.name,
        }
    )


def render_year(paths: DataDir, new: Path, year: int, run_id: str) -> tuple[list[Path], dict[str, str]]:
    """Publication `new` = the current one with the pages of `year` rendered again from its marts."""
    from reports.render import render_site

    marts = new / "marts"
    publication.copy_current_marts(paths, marts)  # the marts stay as published, manifest.json included
    withheld = publication.withheld_years(marts / "checks.parquet")
    for key in (None, year):
        if key in withheld:
            raise Failure(f"{year} not published: {withheld[key]} (see DIR/marts/checks.parquet)")
    previous = publication.previous_public_copy(publication.current_publication(paths), new / ".previous")
    source = publication.public_copy(marts, new / publication.PUBLIC, withheld, previous)
    if previous is not None:
        shutil.rmtree(previous)
    # The year's pages are stamped by this run (same input fingerprint as the marts, this code and run).
    stamp = json.loads((marts / "manifest.json").read_text(encoding="utf-8"))
    stamp |= {
        "code_version": publication.code_version(),
        "run_id": run_id,
        "generated_at": publication.utc_timestamp(),
    }
    try:
        pages = render_site(source, new / "reports", stamp, only_years=[year])
    except ValueError as error:  # the year has no figures in the published marts
        raise Failure(f"{year} not published: {error}") from None
    publication.copy_current_reports(paths, new / "reports", leave_out={str(year)})
    return pages, stamp


def pages_per_year(reports: Path, pages: list[Path]) -> dict[str, int]:
    """HTML pages per year folder (the national page and the municipalities' pages), oldest year first."""
    counts: dict[str, int] = {}
    for page in pages:
        if page.parent.parent == reports and page.parent.name.isdigit():
            counts[page.parent.name] = counts.get(page.parent.name, 0) + 1
    return dict(sorted(counts.items()))
