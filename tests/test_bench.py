"""The benchmark's reading of a run's log (which steps took the time) and its summary of repeated runs."""

from assets.sql_assets import tables_summary
from pipelines.bench import SQL_TABLES_SUMMARY, slowest_steps, spread

LOG = """\
2026-11-28 05:57:26 +0000 - dagster - DEBUG - refresh_warehouse - 1f5a - 29443 - ingest_raw - STEP_SUCCESS - Finished execution of step "ingest_raw" in 4m52s.
2026-11-28 05:57:29 +0000 - dagster - DEBUG - refresh_warehouse - 1f5a - 29443 - intermediate__int_x - STEP_SUCCESS - Finished execution of step "intermediate__int_x" in 2.14s.
2026-11-28 05:57:30 +0000 - dagster - DEBUG - refresh_warehouse - 1f5a - 29443 - marts__mart_y - STEP_SUCCESS - Finished execution of step "marts__mart_y" in 533ms.
2026-11-28 05:57:30 +0000 - dagster - DEBUG - refresh_warehouse - 1f5a - 29443 - marts__mart_z - STEP_SUCCESS - Finished execution of step "marts__mart_z" in 8.3ms.
"""


def test_slowest_steps_reads_every_duration_format_dagster_writes():
    assert slowest_steps(LOG, count=3) == [
        ("ingest_raw", 4 * 60 + 52),
        ("intermediate__int_x", 2.14),
        ("marts__mart_y", 0.533),
    ]


def test_spread_is_the_one_measurement_or_the_median_with_its_range():
    assert spread([41.04]) == "41.0"
    assert spread([41.9, 38.2, 40.0]) == "median 40.0 of 3 (38.2-41.9)"
    assert spread([8.0, 9.0]) == "median 8.5 of 2 (8.0-9.0)"


def test_the_bench_finds_the_sql_step_summary_in_a_run_log():
    summary = tables_summary({"intermediate.int_a": 2.0, "marts.mart_b": 0.3, "staging.stg_c": 0.0})
    assert (
        summary
        == "3 tables in 2.3 s of SQL; slowest: intermediate.int_a 2.0 s, marts.mart_b 0.3 s, staging.stg_c 0.0 s"
    )
    log = (
        LOG
        + f"2026-11-28 05:57:31 +0000 - dagster - INFO - refresh_warehouse - 1f5a - sql_tables - {summary}\n"
    )
    assert SQL_TABLES_SUMMARY.findall(log) == [summary]
