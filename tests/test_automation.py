"""The raw-folder sensor and the schedules, evaluated with Dagster's build contexts on temporary folders."""

import os

from dagster import DagsterInstance, RunRequest, SkipReason, build_schedule_context, build_sensor_context

from pipelines.definitions import build_definitions
from pipelines.resources import Warehouse


def evaluate(defs, warehouse, cursor, instance):
    sensor = defs.get_sensor_def("raw_folder_sensor")
    context = build_sensor_context(cursor=cursor, instance=instance, resources={"warehouse": warehouse})
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


def test_monthly_schedule_requests_the_refresh_job(tmp_path):
    defs = build_definitions(str(tmp_path / "data"))
    schedule = defs.get_schedule_def("monthly_refresh")
    assert schedule.cron_schedule == "0 6 2 * *"
    assert schedule.job_name == "refresh_warehouse"
    with DagsterInstance.ephemeral() as instance:
        requests = schedule.evaluate_tick(build_schedule_context(instance=instance)).run_requests
    assert requests is not None and len(requests) == 1
