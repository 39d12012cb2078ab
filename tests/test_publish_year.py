"""The partitioned job publish_year: one report year re-published, every other page left byte for byte."""

import os
import re
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

from pipelines.definitions import build_definitions
from tests.report_fixtures import fail_an_error_check
from tests.test_end_to_end import tiny_data_set

YEAR_REPORT = AssetKey(["reports", "year_report"])
STAMP = re.compile(r'<meta name="generator"[^>]*>|<div class="stamp">.*?</div>\s*</dl>', re.S)


def snapshot(reports: Path) -> dict[str, bytes]:
    return {str(p.relative_to(reports)): p.read_bytes() for p in sorted(reports.rglob("*")) if p.is_file()}


def published_run(root: Path) -> str:
    return Path(os.readlink(root / ".publication")).name


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    """The tiny data set (2020 and 2021) refreshed once, in one instance shared by the tests here."""
    root = tmp_path_factory.mktemp("publish_year") / "data"
    tiny_data_set(root)
    defs = build_definitions(str(root))
    with DagsterInstance.ephemeral() as instance:
        refresh = defs.resolve_job_def("refresh_warehouse").execute_in_process(instance=instance)
        assert refresh.success
        yield root, defs, instance, refresh.run_id


def test_the_refresh_marks_the_years_it_published(refreshed):
    """reports/site publishes every year: each is a materialised partition of reports/year_report."""
    _, _, instance, refresh_run = refreshed
    assert instance.get_materialized_partitions(YEAR_REPORT) == {"2020", "2021"}
    event = instance.get_latest_materialization_event(YEAR_REPORT)
    assert event is not None and event.run_id == refresh_run
    # recorded after reports/site's own event: the UI would take the years for older than their upstream
    site = instance.get_latest_materialization_event(AssetKey(["reports", "site"]))
    assert site is not None and event.timestamp > site.timestamp


def test_publishing_a_year_replaces_only_that_years_pages(refreshed):
    root, defs, instance, refresh_run = refreshed
    before = snapshot(root / "reports")
    manifest = (root / "marts/manifest.json").read_bytes()

    result = defs.resolve_job_def("publish_year").execute_in_process(instance=instance, partition_key="2020")

    assert (
        result.success and published_run(root) == f"{result.run_id}-2020"
    )  # a new publication, switched in whole
    after = snapshot(root / "reports")
    assert after.keys() == before.keys()
    changed = {name for name in after if after[name] != before[name]}
    assert changed and all(
        name.startswith("2020/") for name in changed
    )  # index, 2021, assets, downloads: same bytes
    for name in (n for n in after if n.startswith("2020/") and n.endswith(".html")):
        page = after[name].decode()
        assert result.run_id in page and refresh_run not in page  # stamped by the publishing run
        assert STAMP.sub("", page) == STAMP.sub(
            "", before[name].decode()
        )  # otherwise as the full render made it
    for name in (n for n in after if n.startswith("2020/") and n.endswith(".csv")):
        assert after[name] == before[name]
    assert refresh_run in after["2021/index.html"].decode()
    assert (root / "marts/manifest.json").read_bytes() == manifest  # the marts are not touched

    assert instance.get_materialized_partitions(YEAR_REPORT) == {"2020", "2021"}  # 2021 by the refresh
    assert instance.get_latest_materialization_event(YEAR_REPORT).run_id == result.run_id  # type: ignore[union-attr]
    materialization = result.asset_materializations_for_node("reports__year_report")[0]
    metadata = materialization.metadata
    assert materialization.partition == "2020"
    assert metadata["national_page"].value == str(root / "reports/2020/index.html")
    assert (metadata["pages"].value, metadata["municipality_pages"].value) == (2, 1)


def test_a_year_without_figures_is_refused_and_nothing_changes(refreshed):
    root, defs, instance, _ = refreshed
    current, before = published_run(root), snapshot(root / "reports")

    result = defs.resolve_job_def("publish_year").execute_in_process(
        instance=instance, partition_key="2019", raise_on_error=False
    )

    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_failure_data is not None and failure.step_failure_data.error is not None
    assert "2019 not published: no figures for 2019" in failure.step_failure_data.error.message
    assert published_run(root) == current and snapshot(root / "reports") == before
    assert not (root / ".publications" / result.run_id).exists()  # nothing of it stays behind


def test_a_year_withheld_by_an_error_check_is_refused_and_nothing_changes(refreshed):
    root, defs, instance, _ = refreshed
    current, before = published_run(root), snapshot(root / "reports")
    checks = root / ".publication" / "marts" / "checks.parquet"
    published_checks = checks.read_bytes()
    fail_an_error_check(checks, [2021])
    try:
        result = defs.resolve_job_def("publish_year").execute_in_process(
            instance=instance, partition_key="2021", raise_on_error=False
        )
    finally:
        checks.write_bytes(published_checks)

    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_failure_data is not None and failure.step_failure_data.error is not None
    message = failure.step_failure_data.error.message
    assert (
        "2021 not published: ERROR check kpi_national_shares_in_range on marts/kpi_national failed" in message
    )
    assert published_run(root) == current and snapshot(root / "reports") == before


def test_a_run_of_every_asset_with_a_year_keeps_its_publication(tmp_path):
    """The UI's "Materialize all" with a year picked: the refresh publishes, then the year is re-published from
    it. The year's step once cleared the folder the refresh had just switched in (run_id for both)."""
    from dagster import AssetSelection, Definitions, define_asset_job

    root = tmp_path / "data"
    tiny_data_set(root)
    everything = define_asset_job("everything", selection=AssetSelection.all())
    defs = Definitions.merge(build_definitions(str(root)), Definitions(jobs=[everything]))
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("everything").execute_in_process(
            instance=instance, partition_key="2021"
        )
    assert result.success
    assert published_run(root) == f"{result.run_id}-2021"
    for page in ("index.html", "2021/index.html", "2020/index.html", "2021/0159.html"):
        assert (root / "reports" / page).is_file(), page
    assert (root / "marts" / "kpi_national.parquet").is_file() and (
        root / "marts" / "manifest.json"
    ).is_file()
