"""When things run: the report years (partitions), the raw-folder sensor and the schedules."""

from datetime import datetime
from zoneinfo import ZoneInfo

from dagster import (
    AssetKey,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    TimeWindowPartitionsDefinition,
    schedule,
    sensor,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from assets.loading import RAW_FINGERPRINT, list_deliveries, raw_fingerprint
from pipelines.resources import Warehouse

TIMEZONE = "Europe/Copenhagen"
DELIVERIES_KEY = AssetKey(["ingest", "deliveries"])
FIRST_REPORT_YEAR = 2017  # the first year of "E-handel i tal" in this pipeline (ehandel generate's default)

# Report years are calendar-year time windows, keyed "2019". A time window (not a static list, not dynamic
# partitions registered by a run) because a report year *is* a closed calendar year: a new key appears by
# itself when a year ends, with no code change and no bookkeeping in the instance, the UI lays the years out
# as a timeline where backfilling 2019 or 2017-2019 is a range pick, and `--partition 2019` names it on the
# command line. A year without figures in the published marts fails with that reason.
REPORT_YEARS = TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", start=str(FIRST_REPORT_YEAR), fmt="%Y", timezone=TIMEZONE
)


def raw_folder_state(warehouse: Warehouse) -> tuple[str, int]:
    """(fingerprint of DIR/raw, number of deliveries): names, sizes and times only (no file is read)."""
    deliveries = list_deliveries(warehouse.paths.raw)
    return raw_fingerprint(warehouse.paths.raw, deliveries), len(deliveries)


def _last_loaded_state(context: SensorEvaluationContext) -> str | None:
    """The fingerprint of raw/ as the latest refresh in this instance loaded it (ingest/deliveries' metadata)."""
    event = context.instance.get_latest_materialization_event(DELIVERIES_KEY)
    materialization = event.asset_materialization if event is not None else None
    value = materialization.metadata.get(RAW_FINGERPRINT) if materialization is not None else None
    return getattr(value, "value", None)


def build_raw_folder_sensor(job: UnresolvedAssetJobDefinition):
    @sensor(
        name="raw_folder_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.STOPPED,
        description=(
            "Starts a refresh when files arrive in, change in or leave DIR/raw (cursor: the folder's fingerprint of "
            "names, sizes and times). Switched on after a refresh, it waits for the next change."
        ),
    )
    def raw_folder_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
        state, files = raw_folder_state(warehouse)
        if state == context.cursor:
            return SkipReason(f"raw/ unchanged ({files} files)")
        # no cursor yet (None; the UI's "Preview tick result" sends ''): switched on after a refresh, nothing new
        if not context.cursor and state == _last_loaded_state(context):
            context.update_cursor(state)
            return SkipReason(f"raw/ unchanged since the last refresh loaded it ({files} files)")
        context.update_cursor(state)
        return RunRequest(run_key=state, tags={"ehandel/trigger": "raw_folder", "ehandel/files": str(files)})

    return raw_folder_sensor


def build_schedules(
    refresh_job: UnresolvedAssetJobDefinition, publish_year_job: UnresolvedAssetJobDefinition
) -> list[ScheduleDefinition]:
    # The yearly publication follows the March refresh, which has loaded the deliveries of January and
    # February (December's invoices arrive late); if that refresh still runs, the run queue (one run at a time,
    # dagster.yaml) holds the publication until it is done. Not built with build_schedule_from_partitioned_job:
    # for a yearly cron it can only tick at midnight on 1 January.
    @schedule(
        name="yearly_publication",
        job=publish_year_job,
        cron_schedule="0 6 3 3 *",
        execution_timezone=TIMEZONE,
        default_status=DefaultScheduleStatus.STOPPED,
        description="3 March at 06:00: publish the reports of the year that ended (partition = last year).",
    )
    def yearly_publication(context: ScheduleEvaluationContext) -> RunRequest:
        when = context.scheduled_execution_time or datetime.now(ZoneInfo(TIMEZONE))
        year = str(when.astimezone(ZoneInfo(TIMEZONE)).year - 1)
        return RunRequest(
            partition_key=year,
            tags={"ehandel/trigger": "yearly_publication"},
        )

    return [
        ScheduleDefinition(
            name="monthly_refresh",
            job=refresh_job,
            cron_schedule="0 6 2 * *",
            execution_timezone=TIMEZONE,
            default_status=DefaultScheduleStatus.STOPPED,
            description="The 2nd of every month at 06:00: load the month's extracts and rebuild the marts and reports.",
        ),
        yearly_publication,
    ]
