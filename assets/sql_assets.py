"""Staging, intermediate and marts layers: one asset per SQL file, dependencies read from the SQL itself.

sql/<layer>/<table>.sql makes <layer>.<table>, asset key [<layer>, <table>], asset group <layer>.
"""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, MetadataValue, asset

from pipelines.resources import Warehouse
from pipelines.warehouse import (
    incremental_state,
    materialise_sql,
    sql_dependencies,
    sql_files,
    sql_table_name,
)

SQL_LAYERS = ("staging", "intermediate", "marts")


def _description(path: Path) -> str:
    lines = [
        line[2:].strip() for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("--")
    ]
    return " ".join(line for line in lines if not line.startswith("materialized:")) or path.stem


def sql_asset(path: Path) -> AssetsDefinition:
    layer, table = sql_table_name(path)

    @asset(
        key=AssetKey([layer, table]),
        group_name=layer,
        deps=[AssetKey(list(dep)) for dep in sorted(sql_dependencies(path))],
        kinds={"duckdb", "sql"},
        description=_description(path),
        pool="duckdb",
    )
    def _materialise(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        with warehouse.connect() as con:
            rows = materialise_sql(con, path)
            updated = incremental_state(con, layer, table) or {}  # an incremental table: what this run added
            # a view has no preview: its first rows can cost its whole join (int_invoice_lines: the 11 M copies)
            preview = (
                con.execute(f"select * from {layer}.{table} limit 5").fetch_df() if rows is not None else None
            )
        return MaterializeResult(
            metadata={
                **({"rows": rows} if rows is not None else {"materialized": "view"}),
                **{key: value for key, value in updated.items() if value is not None},
                "sql": MetadataValue.path(str(path)),
                **(
                    {"preview": MetadataValue.md(preview.to_markdown(index=False))}
                    if preview is not None and len(preview.columns) < 30
                    else {}
                ),
            }
        )

    return _materialise


def build_sql_assets() -> list[AssetsDefinition]:
    return [sql_asset(path) for path in sql_files(SQL_LAYERS)]
