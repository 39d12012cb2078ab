"""When things run: the raw-folder sensor and the schedules."""

import hashlib

from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from assets.loading import list_deliveries
from pipelines.resources import Warehouse


def raw_folder_state(warehouse: Warehouse) -> tuple[str, int]:
    """A fingerprint of DIR/raw from names, sizes and modification times only (no file is read)."""
    digest = hashlib.sha256()
    deliveries = list_deliveries(warehouse.paths.raw)
    for d in deliveries:
        digest.update(f"{d.source_file}\t{d.size_bytes}\t{d.mtime_ns}\n".encode())
    for reference in sorted((warehouse.paths.raw / "reference").glob("*.csv")):
        stat = reference.stat()
        digest.update(f"{reference.name}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest(), len(deliveries)


def build_raw_folder_sensor(job: UnresolvedAssetJobDefinition):
    @sensor(
        name="raw_folder_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.STOPPED,
        description="Starts a refresh when files arrive in, change in or leave DIR/raw (cursor: the folder's fingerprint).",
    )
    def raw_folder_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
        state, files = raw_folder_state(warehouse)
        if state == context.cursor:
            return SkipReason(f"raw/ unchanged ({files} files)")
        context.update_cursor(state)
        return RunRequest(run_key=state, tags={"ehandel/trigger": "raw_folder", "ehandel/files": str(files)})

    return raw_folder_sensor


def build_schedules(refresh_job: UnresolvedAssetJobDefinition) -> list[ScheduleDefinition]:
    return [
        ScheduleDefinition(
            name="monthly_refresh",
            job=refresh_job,
            cron_schedule="0 6 2 * *",
            execution_timezone="Europe/Copenhagen",
            default_status=DefaultScheduleStatus.STOPPED,
            description="The 2nd of every month at 06:00: load the month's extracts and rebuild the marts and reports.",
        ),
    ]
