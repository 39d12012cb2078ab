"""The raw-folder sensor and the schedules, evaluated with Dagster's build contexts on temporary folders."""

import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dagster import (
    DagsterInstance,
    DefaultScheduleStatus,
    RunRequest,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
)

from pipelines.automation import REPORT_YEARS
from pipelines.definitions import build_definitions
from pipelines.resources import Warehouse


def evaluate(defs, warehouse, cursor, instance):
    sensor = defs.resolve_sensor_def("raw_folder_sensor")
    # a context manager: the warehouse resource has a teardown (it closes the run's DuckDB instance)
    with build_sensor_context(
        cursor=cursor, instance=instance, resources={"warehouse": warehouse}
    ) as context:
        result = sensor(context)
        return result, context.cursor


def test_sensor_starts_a_run_when_raw_changes(tmp_path):
    root = tmp_path / "data"
    folder = root / "raw/invoices/0159"
    folder.mkdir(parents=True)
    defs = build_definitions(str(root))
    warehouse = Warehouse(data_dir=str(root))
    with DagsterInstance.ephemeral() as instance:
        empty, cursor = evaluate(defs, warehouse, None, instance)
        assert isinstance(empty, RunRequest)  # first evaluation: nothing seen yet
        again, same = evaluate(defs, warehouse, cursor, instance)
        assert isinstance(again, SkipReason) and same == cursor

        (folder / "jan.csv").write_text("fakturanummer;beloeb\nF1;1\n", encoding="utf-8")
        arrived, after_arrival = evaluate(defs, warehouse, cursor, instance)
        assert isinstance(arrived, RunRequest) and after_arrival != cursor
        assert arrived.run_key == after_arrival and arrived.tags["ehandel/files"] == "1"

        (folder / "jan.csv").write_text("fakturanummer;beloeb\nF1;2\n", encoding="utf-8")
        os.utime(folder / "jan.csv", ns=(1, 1))
        changed, after_change = evaluate(defs, warehouse, after_arrival, instance)
        assert isinstance(changed, RunRequest) and after_change != after_arrival

        (folder / "jan.csv").unlink()
        removed, after_removal = evaluate(defs, warehouse, after_change, instance)
        assert isinstance(removed, RunRequest) and after_removal == cursor  # back to the empty folder


def test_a_sensor_switched_on_after_a_refresh_waits_for_the_next_change(tmp_path):
    """With no cursor yet, the sensor compares raw/ with what the latest refresh loaded: a full refresh of
    unchanged data is not started just because the sensor was switched on."""
    from tests.test_end_to_end import tiny_data_set

    root = tmp_path / "data"
    tiny_data_set(root)
    defs = build_definitions(str(root))
    warehouse = Warehouse(data_dir=str(root))
    with DagsterInstance.ephemeral() as instance:
        assert defs.resolve_job_def("refresh_warehouse").execute_in_process(instance=instance).success
        preview, _ = evaluate(defs, warehouse, "", instance)  # the UI's "Preview tick result" sends ''
        assert isinstance(preview, SkipReason)
        first, cursor = evaluate(defs, warehouse, None, instance)
        assert isinstance(first, SkipReason) and "since the last refresh" in str(first.skip_message)
        assert cursor is not None
        (root / "raw/invoices/0159/late.csv").write_text("fakturanummer;beloeb\nF9;1\n", encoding="utf-8")
        arrived, _ = evaluate(defs, warehouse, cursor, instance)
        assert isinstance(arrived, RunRequest)


def test_monthly_schedule_requests_the_refresh_job(tmp_path):
    defs = build_definitions(str(tmp_path / "data"))
    schedule = defs.resolve_schedule_def("monthly_refresh")
    assert schedule.cron_schedule == "0 6 2 * *"
    assert schedule.job_name == "refresh_warehouse"
    with DagsterInstance.ephemeral() as instance:
        requests = schedule.evaluate_tick(build_schedule_context(instance=instance)).run_requests
    assert requests is not None and len(requests) == 1


COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def yearly_request(defs, when: datetime):
    schedule = defs.resolve_schedule_def("yearly_publication")
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(
            instance=instance, scheduled_execution_time=when, repository_def=defs.get_repository_def()
        )
        requests = schedule.evaluate_tick(context).run_requests
    assert requests is not None and len(requests) == 1
    return requests[0]


def test_yearly_schedule_publishes_the_year_that_ended(tmp_path):
    defs = build_definitions(str(tmp_path / "data"))
    schedule = defs.resolve_schedule_def("yearly_publication")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 3 3 *", "Europe/Copenhagen")
    assert schedule.job_name == "publish_year"
    assert schedule.default_status == DefaultScheduleStatus.STOPPED
    request = yearly_request(defs, datetime(2026, 3, 3, 6, 0, tzinfo=COPENHAGEN))
    assert request.partition_key == "2025"
    assert request.tags["ehandel/trigger"] == "yearly_publication"
    # The year is Copenhagen's: 23:30 UTC on New Year's Eve is already the new year in Denmark.
    assert yearly_request(defs, datetime(2025, 12, 31, 23, 30, tzinfo=UTC)).partition_key == "2025"
    # The key is one of the job's report years (a calendar-year partition per year since 2017).
    assert request.partition_key in REPORT_YEARS.get_partition_keys()
