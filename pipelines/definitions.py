"""The one Dagster Definitions of ehandel, built explicitly."""

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from assets.checks import mart_checks, quality_checks
from assets.ingest import ingest_raw
from assets.publish import published_marts, site, year_report
from assets.reference import reference_tables
from assets.sql_assets import sql_tables
from pipelines.automation import build_raw_folder_sensor, build_schedules
from pipelines.resources import Warehouse
from pipelines.settings import DataDir

LAYER_GROUPS = ("reference", "ingest", "staging", "intermediate", "marts", "reports")

refresh_job = define_asset_job(
    name="refresh_warehouse",
    # Every layer; the year partitions are left to publish_year (reports/site renders every year already).
    selection=AssetSelection.groups(*LAYER_GROUPS) - AssetSelection.assets(year_report),
    description="Load what is new in raw/, rebuild the marts, publish the Parquet marts and the reports.",
)

publish_year_job = define_asset_job(
    name="publish_year",
    selection=AssetSelection.assets(year_report),
    description=(
        "Re-render one year's reports (a partition: the year) from the published marts and publish them; "
        "every other page stays as it is. Backfill a year or a range of years from the asset or this job."
    ),
)


def build_definitions(data_dir: str | None = None) -> Definitions:
    return Definitions(
        assets=[
            reference_tables,
            ingest_raw,
            sql_tables,
            mart_checks,
            published_marts,
            site,
            year_report,
        ],
        asset_checks=[quality_checks],
        jobs=[refresh_job, publish_year_job],
        schedules=build_schedules(refresh_job, publish_year_job),
        sensors=[build_raw_folder_sensor(refresh_job)],
        resources={"warehouse": Warehouse(data_dir=str(DataDir.resolve(data_dir).root))},
        executor=in_process_executor,
    )


defs = build_definitions()
