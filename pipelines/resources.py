"""Dagster resources: the one warehouse writer."""

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster import ConfigurableResource, Failure, InitResourceContext
from pydantic import PrivateAttr

from pipelines import publication, warehouse
from pipelines.locking import DataDirBusy, hold_until_exit
from pipelines.settings import DataDir


class Warehouse(ConfigurableResource):
    """The data directory and its DuckDB warehouse (DIR/marts/warehouse.duckdb).

    Assets that write use the Dagster pool `duckdb` (limit 1 in dagster.yaml) and the in-process executor,
    so there is one writer at a time; every connection is closed, also when the asset fails.
    Across processes, every run holds DIR's run lock (pipelines/locking.py) from its start until its process
    ends, and clears what a killed run left behind (scratch files, half-written publications) once it holds it.
    """

    data_dir: str
    # One DuckDB instance for the whole run: every asset's connection shares its buffer pool (the tables the
    # last step wrote are still in memory) and the warehouse is checkpointed when the run ends, not per step.
    _instance: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    @property
    def paths(self) -> DataDir:
        return DataDir.resolve(self.data_dir)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        if context.run is None:  # a sensor or schedule evaluation: reads raw/ only, takes no lock
            return
        try:
            hold_until_exit(self.paths.root)
        except DataDirBusy as busy:
            raise Failure(str(busy)) from None
        publication.clean_leftovers(self.paths)
        self._instance = warehouse.open_warehouse(self.paths.warehouse)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._instance is not None:
            self._instance.close()
            self._instance = None

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.paths.warehouse) as con:
            yield con
