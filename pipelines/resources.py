"""Dagster resources: the one warehouse writer."""

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster import ConfigurableResource

from pipelines import warehouse
from pipelines.settings import DataDir


class Warehouse(ConfigurableResource):
    """The data directory and its DuckDB warehouse (DIR/marts/warehouse.duckdb).

    Assets that write use the Dagster pool `duckdb` (limit 1 in dagster.yaml) and the in-process executor,
    so there is one writer at a time; every connection is closed, also when the asset fails.
    """

    data_dir: str

    @property
    def paths(self) -> DataDir:
        return DataDir.resolve(self.data_dir)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.paths.warehouse) as con:
            yield con
