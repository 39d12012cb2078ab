"""The SQL layers as Dagster assets: one asset per file, built in one step, any subset of them."""

import duckdb
import pytest
from dagster import AssetKey, AssetSelection, DagsterInstance, define_asset_job

import assets.sql_assets as sql_assets
from pipelines.cli import _failure_line
from pipelines.settings import SQL_DIR
from pipelines.warehouse import connect, sql_dependencies, sql_files, sql_table_name
from tests.test_end_to_end import refresh_tiny_data_set

KPI = AssetKey(["marts", "mart_kpi_national"])
FILES = AssetKey(["staging", "stg_files"])


def test_every_sql_file_is_one_asset_with_its_layer_and_dependencies():
    specs = {spec.key: spec for spec in sql_assets.sql_tables.specs}
    assert set(specs) == {AssetKey(list(sql_table_name(p))) for p in sql_files()}
    for path in sql_files():
        spec = specs[AssetKey(list(sql_table_name(path)))]
        assert spec.group_name == path.parent.name
        assert {dep.asset_key for dep in spec.deps} == {AssetKey(list(d)) for d in sql_dependencies(path)}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("sql_assets") / "data"
    return root, refresh_tiny_data_set(root)


def _run_subset(defs, keys):
    job = define_asset_job("subset", selection=AssetSelection.assets(*keys)).resolve(
        asset_graph=defs.resolve_asset_graph()
    )
    with DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(
            instance=instance, resources={"warehouse": defs.resources["warehouse"]}, raise_on_error=False
        )


def test_a_subset_builds_only_the_selected_tables(built):
    root, defs = built
    warehouse = root / "marts" / "warehouse.duckdb"
    with connect(warehouse) as con:  # both marts gone: the subset must make the one it selects, and only it
        con.execute("drop table marts.mart_kpi_national")
        con.execute("drop table marts.mart_kpi_municipality")
    result = _run_subset(defs, [KPI])
    assert result.success
    materialized = [e.asset_key for e in result.get_asset_materialization_events()]
    assert materialized == [KPI]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["rows"].value == 2  # 2020 (Gladsaxe) and 2021 (Gladsaxe, Kerteminde)
    assert metadata["preview"].value.startswith("| year | participating_municipalities |")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select year from marts.mart_kpi_national order by year").fetchall() == [
            (2020,),
            (2021,),
        ]
        assert not con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name = 'mart_kpi_municipality'"
        ).fetchone()[0]


def test_a_failing_sql_file_is_named_in_the_error(built, monkeypatch):
    _, defs = built

    def fail_on_files(con, path, params=None):
        if path.stem == "stg_files":
            raise duckdb.BinderException('Binder Error: Referenced column "x" not found')
        raise AssertionError("only the selected table is built")

    monkeypatch.setattr(sql_assets, "materialise_sql", fail_on_files)
    result = _run_subset(defs, [FILES])
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    error = failure.step_failure_data.error
    assert error.cls_name == "DagsterExecutionStepExecutionError"  # Dagster's wrapper; the cause is ours
    message = error.cause.message
    assert (
        'staging.stg_files (sql/staging/stg_files.sql): Binder Error: Referenced column "x" not found'
        in message
    )
    # `ehandel run` prints that one line, past Dagster's wrapper
    assert _failure_line(error).endswith(
        'SqlFileError: staging.stg_files (sql/staging/stg_files.sql): Binder Error: Referenced column "x" not found'
    )


def test_a_tables_description_is_its_sql_files_header_as_markdown():
    """The leading comment block, lines kept ("* " bullets stay a list in the UI); comments inside the SQL are
    not part of it (the UI showed them run together after the header)."""
    text = sql_assets._description(SQL_DIR / "intermediate" / "int_agreement_spend.sql")
    assert text.startswith("Grain: one row per (year, kommunekode, aftalenummer, category)")
    assert "\n* an agreement covers a category from its earliest gyldig_fra" in text
    assert text.endswith(
        "category_suppliers, agreement_suppliers and other_suppliers (of the rest of the spend)."
    )
    assert "materialized:" not in text and "the goods spend per document" not in text
