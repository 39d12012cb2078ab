"""Data-quality checks: Great Expectations suites on bounded tables, SQL checks over the whole warehouse.

- `files`: the expectations every delivered file must meet as it is loaded (GX, ingest);
- `marts`: the expectations on the published mart tables (GX) and the SQL checks of sql/checks/;
- `gx`: the one lazily built ephemeral GX context (importing GX costs seconds: only when a check runs).
The Dagster side (the `marts/mart_checks` asset and the asset checks shown on their assets) is assets/checks.py.
"""
