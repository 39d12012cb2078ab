"""Reference layer: the static tables shipped with the project and the registers delivered with the data."""

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from pipelines.resources import Warehouse
from pipelines.warehouse import STATIC_REFERENCE, load_delivered_reference, load_static_reference

DELIVERED_REFERENCE = ("leverandoerer", "aftaler")


@multi_asset(
    specs=[
        AssetSpec(
            AssetKey(["reference", table]),
            group_name="reference",
            kinds={"duckdb"},
            description=f"reference.{table}, shipped in pipelines/reference_data/{stem}.csv",
        )
        for stem, table in STATIC_REFERENCE.items()
    ]
    + [
        AssetSpec(
            AssetKey(["reference", table]),
            group_name="reference",
            kinds={"duckdb"},
            description=f"reference.{table}, delivered with the data in DIR/raw/reference/{table}.csv",
        )
        for table in DELIVERED_REFERENCE
    ],
    pool="duckdb",
)
def reference_tables(context: AssetExecutionContext, warehouse: Warehouse):
    with warehouse.connect() as con:
        counts = load_static_reference(con)
        counts.update(load_delivered_reference(con, warehouse.paths.raw / "reference"))
    for table, rows in counts.items():
        yield MaterializeResult(asset_key=AssetKey(["reference", table]), metadata={"rows": rows})
