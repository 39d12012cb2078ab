"""Deliveries arriving again and again: duplicates change nothing, corrections replace, real XML pairs match."""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from pipelines.definitions import build_definitions
from pipelines.settings import DataDir
from pipelines.warehouse import connect
from tests.sql_fixtures import build_marts, create_warehouse_tables, insert_invoice_lines
from tests.test_end_to_end import tiny_data_set

FIGURE_MARTS = (
    "kpi_national", "kpi_municipality", "category_national", "category_municipality",
    "industry_national", "industry_municipality", "coverage",
)  # fmt: skip
UBL_FIXTURES = Path(__file__).parent / "fixtures" / "ubl"


def run(root: Path) -> None:
    job = build_definitions(str(root)).resolve_job_def("refresh_warehouse")
    with DagsterInstance.ephemeral() as instance:
        assert job.execute_in_process(instance=instance).success


def mart_bytes(root: Path) -> dict[str, bytes]:
    return {name: (root / "marts" / f"{name}.parquet").read_bytes() for name in FIGURE_MARTS}


def test_a_duplicated_file_changes_no_mart(tmp_path):
    root = tmp_path / "data"
    tiny_data_set(root)
    run(root)
    before = mart_bytes(root)
    shutil.copy(root / "raw/invoices/0159/2021.csv", root / "raw/invoices/0159/2021 (kopi).csv")
    run(root)
    assert mart_bytes(root) == before
    with duckdb.connect() as con:
        log = con.execute(
            "select source_file, rows_read, rows_accepted, rows_duplicate, reconciled from read_parquet(?) "
            "where source_file like 'invoices/0159/2021%' order by 1",
            [str(root / "marts/ingest_log.parquet")],
        ).fetchall()
    assert log == [
        ("invoices/0159/2021 (kopi).csv", 7, 0, 7, True),
        ("invoices/0159/2021.csv", 7, 6, 0, True),
    ]


def test_the_same_bytes_in_another_municipalitys_folder_are_its_own_documents(tmp_path):
    """METHODS 1: the municipality is the delivery folder's, and part of a document's identity. Kerteminde's
    invoice file delivered again, byte for byte, by Gladsaxe is Gladsaxe's: counted there, not a duplicate."""
    root = tmp_path / "data"
    tiny_data_set(root)
    (root / "raw/invoices/0159/kerteminde.csv").write_bytes(
        (root / "raw/invoices/0440/2021.csv").read_bytes()
    )
    run(root)
    with duckdb.connect() as con:
        log = con.execute(
            "select source_file, rows_read, rows_accepted, rows_duplicate, reconciled from read_parquet(?) "
            "where source_file in ('invoices/0159/kerteminde.csv', 'invoices/0440/2021.csv') order by 1",
            [str(root / "marts/ingest_log.parquet")],
        ).fetchall()
        spend = con.execute(
            "select kommunekode, goods_spend_kr, ehandel_spend_kr from read_parquet(?) where year = 2021 "
            "and kommunekode in ('0159', '0440') order by 1",
            [str(root / "marts/kpi_municipality.parquet")],
        ).fetchall()
    assert log == [("invoices/0159/kerteminde.csv", 2, 2, 0, True), ("invoices/0440/2021.csv", 2, 2, 0, True)]
    # by hand: Gladsaxe 1720 goods, 1420 e-handel (tiny_data_set) + F5 100 and F6 900 (art 2.2, goods); order
    # 3003 is Kerteminde's, so neither is e-handel in Gladsaxe. Kerteminde unchanged: 1000 goods, 100 e-handel.
    assert [(k, float(g), float(e)) for k, g, e in spend] == [
        ("0159", 2720.0, 1420.0),
        ("0440", 1000.0, 100.0),
    ]


def test_a_corrected_file_replaces_the_documents_it_contains(tmp_path):
    root = tmp_path / "data"
    tiny_data_set(root)
    run(root)
    original = root / "raw/invoices/0159/2021.csv"
    os.utime(original, (1_600_000_000, 1_600_000_000))
    corrected = root / "raw/invoices/0159/2021-rettet.csv"
    header = original.read_text(encoding="utf-8").splitlines()[0]
    # F3 was 300 kr.; the correction says 250 kr. in one line, and adds nothing else
    corrected.write_text(f"{header}\nF3;Faktura;2021-04-05;11111111;NA;;1;2.2;;250,00\n", encoding="utf-8")
    run(root)
    with duckdb.connect() as con:
        gladsaxe = con.execute(
            "select goods_spend_kr, ehandel_spend_kr from read_parquet(?) where year = 2021 and kommunekode = '0159'",
            [str(root / "marts/kpi_municipality.parquet")],
        ).fetchone()
        f3 = con.execute(
            "select source_file, reason, rows_duplicate from read_parquet(?) where source_file like 'invoices/0159/2021%' order by 1",
            [str(root / "marts/ingest_log.parquet")],
        ).fetchall()
    assert gladsaxe == (1720 - 300 + 250, 1420)
    assert [(source, duplicates) for source, _, duplicates in f3] == [
        ("invoices/0159/2021-rettet.csv", 0),
        ("invoices/0159/2021.csv", 1),  # F3's old line is superseded
    ]


@pytest.mark.parametrize(
    "scenario", ["BASPRO_01_01_00", "BASPRO_03_01_06", "COMDEL_01_01_00", "COMDEL_02_02_00"]
)
def test_official_order_invoice_pairs_are_ehandel(tmp_path, scenario):
    root = tmp_path / "data"
    folder = root / "raw/ubl/0159"
    folder.mkdir(parents=True)
    for path in sorted((UBL_FIXTURES / "oioubl-official").glob(f"2.0.2_{scenario}_*.xml")):
        shutil.copy(path, folder / path.name)
    run(root)
    with duckdb.connect(str(DataDir.resolve(root).warehouse), read_only=True) as con:
        invoices = con.execute(
            "select document_number, document_type, is_ehandel from intermediate.int_invoices order by 1, 2"
        ).fetchall()
    assert invoices and all(is_ehandel for *_, is_ehandel in invoices), invoices


def test_warm_runs_give_the_marts_of_a_cold_run(tmp_path):
    """The per-content tables (int_invoice_file_*) are kept current content by content, the per-municipality
    tables (int_invoice_cells ...) municipality by municipality: after new, changed, deleted and duplicated
    files the marts are those of a cold run over the same raw/."""
    root = tmp_path / "warm"
    tiny_data_set(root)
    run(root)
    raw = root / "raw"
    header = (raw / "invoices/0159/2021.csv").read_text(encoding="utf-8").splitlines()[0]
    # a new monthly extract for Kerteminde; Hjørring's file corrected in place; Gladsaxe 2020 withdrawn
    (raw / "invoices/0440/2021-12.csv").write_text(
        f"{header}\nF8;Faktura;2021-12-03;11111111;3003;;1;2.2;;70,00\n", encoding="utf-8"
    )
    (raw / "invoices/0860/2021.csv").write_text(
        f"{header}\nF7;Faktura;2021-01-10;11111111;;;1;2.2;;4000,00\n", encoding="utf-8"
    )
    (raw / "invoices/0159/2020.csv").unlink()
    shutil.copy(raw / "invoices/0440/2021.csv", raw / "invoices/0440/2021 (kopi).csv")
    run(root)
    cold = tmp_path / "cold"
    shutil.copytree(raw, cold / "raw")
    run(cold)
    assert mart_bytes(root) == mart_bytes(cold)
    with duckdb.connect(str(DataDir(root).warehouse), read_only=True) as con:
        kerteminde = con.execute(
            "select sum(total_kr) from intermediate.int_invoice_file_copies "
            "join ingest.files using (file_id) where files.folder_kommunekode = '0440'"
        ).fetchall()
        assert kerteminde == [(100 + 900 + 70,)]
        # the warm run computed the two new contents (Kerteminde's month, Hjørring's correction) and removed the
        # copies of the two withdrawn ones (Hjørring's old file, Gladsaxe 2020); no rebuild
        state = con.execute(
            "select unit, rebuilt, changed_units, removed_rows from intermediate.incremental_state "
            "where table_name = 'intermediate.int_invoice_file_copies'"
        ).fetchall()
        assert state == [("file_id", False, 2 + 2, 2)]
        # the per-municipality tables computed again Gladsaxe, Kerteminde and Hjørring only, not rebuilt
        changed = con.execute(
            "select table_name, rebuilt, changed_units from intermediate.incremental_state "
            "where unit = 'kommunekode' order by table_name"
        ).fetchall()
        assert changed == [
            ("intermediate.int_agreement_spend", False, 3),
            ("intermediate.int_category_cells", False, 3),
            ("intermediate.int_duplicate_lines", False, 3),
            ("intermediate.int_invoice_categories", False, 3),
            ("intermediate.int_invoice_cells", False, 3),
            ("intermediate.int_invoice_copy_ranks", False, 3),
            ("intermediate.int_invoice_credit_matches", False, 3),
            ("intermediate.int_invoice_order_matches", False, 3),
            ("intermediate.int_invoice_special_copies", False, 3),
            ("intermediate.int_order_copy_ranks", False, 3),
        ]


def test_a_re_dated_delivery_changes_the_winning_copy_in_a_warm_run(tmp_path):
    """Of two copies of a document the later delivery wins (METHODS 1): touching the older file makes it the
    later one, so its municipality is computed again although no content changed."""
    root = tmp_path / "warm"
    tiny_data_set(root)
    raw = root / "raw"
    header = (raw / "invoices/0159/2021.csv").read_text(encoding="utf-8").splitlines()[0]
    corrected = raw / "invoices/0159/2021-rettet.csv"  # F3 again, 3000 kr. instead of 300 kr.
    corrected.write_text(f"{header}\nF3;Faktura;2021-04-05;11111111;NA;;1;2.2;;3000,00\n", encoding="utf-8")
    os.utime(corrected, (1_600_000_000, 1_600_000_000))  # delivered before 2021.csv: 2021.csv's F3 wins
    run(root)
    goods = "select sum(goods_spend_kr) from intermediate.int_invoice_cells where kommunekode = '0159' and year = 2021"
    with duckdb.connect(str(DataDir(root).warehouse), read_only=True) as con:
        (before,) = con.execute(goods).fetchall()[0]
    os.utime(corrected)  # now the later delivery
    run(root)
    with duckdb.connect(str(DataDir(root).warehouse), read_only=True) as con:
        (after,) = con.execute(goods).fetchall()[0]
        state = con.execute(
            "select rebuilt, changed_units from intermediate.incremental_state "
            "where table_name = 'intermediate.int_invoice_cells'"
        ).fetchall()
    assert after - before == 3000 - 300
    assert state == [(False, 1)]
    cold = tmp_path / "cold"
    shutil.copytree(raw, cold / "raw")  # copy2: the delivery times come along
    run(cold)
    assert mart_bytes(root) == mart_bytes(cold)


@contextmanager
def one_goods_line_warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory warehouse built from one hand-made goods line of 100 kr. (art 2.2, Gladsaxe)."""
    with connect() as con:
        create_warehouse_tables(con)
        insert_invoice_lines(con, [
            dict(kommunekode="0159", document_number="F1", issue_date="2021-03-01", supplier_cvr="11111111",
                 line_id="1", art="2.2", unspsc=None, amount_kr="100.00"),
        ])  # fmt: skip
        build_marts(con)
        yield con


def test_a_changed_reference_table_recomputes_the_per_file_tables():
    """A per-file table is computed once per content, but again from scratch when what its rows depend on
    changes: here the chart of accounts says art 2.2 is no longer goods."""
    with one_goods_line_warehouse() as con:
        build_marts(con)  # nothing new: no content computed again
        state = "select rebuilt, changed_units from intermediate.incremental_state where table_name = ?"
        copies = "intermediate.int_invoice_file_copies"
        assert con.execute(state, [copies]).fetchall() == [(False, 0)]
        assert con.execute(f"select goods_lines from {copies}").fetchall() == [(1,)]
        con.execute("update reference.kontoplan_arter set varekoeb = 'nej' where art = '2.2'")
        build_marts(con)
        assert con.execute(state, [copies]).fetchall() == [(True, None)]
        assert con.execute(f"select goods_lines, not_goods_lines from {copies}").fetchall() == [(0, 1)]


def test_a_new_municipality_is_computed_alone_and_its_filter_is_lifted_after():
    """A table incremental by kommunekode computes a changed municipality with in_changed_units (sql/macros.sql)
    true for it alone; afterwards the filter is gone, so the next query sees every municipality. The untouched
    municipality's document keeps its id (copy numbers come from file_key), so the rows it was not recomputed for
    still name its document: the new content's file_id sorts first, which renumbered every copy when copies were
    numbered by their file_id's rank."""
    documents = "select kommunekode, document_id from intermediate.int_invoice_document_copies order by 1"
    with one_goods_line_warehouse() as con:
        [(_, gladsaxe_id)] = con.execute(documents).fetchall()
        insert_invoice_lines(con, [
            dict(kommunekode="0440", document_number="F2", issue_date="2021-05-01", supplier_cvr="22222222",
                 line_id="1", art="2.2", unspsc=None, amount_kr="40.00", file_id="a-first-0440"),
        ])  # fmt: skip
        build_marts(con)
        state = "select rebuilt, changed_units from intermediate.incremental_state where table_name = ?"
        assert con.execute(state, ["intermediate.int_invoice_categories"]).fetchall() == [(False, 1)]
        ids = dict(con.execute(documents).fetchall())
        assert ids["0159"] == gladsaxe_id
        categories = con.execute(
            "select kommunekode, document_id, category, goods_lines, goods_spend_kr "
            "from intermediate.int_invoice_categories order by kommunekode"
        ).fetchall()
        assert categories == [
            ("0159", ids["0159"], "Fødevarer", 1, 100),
            ("0440", ids["0440"], "Fødevarer", 1, 40),
        ]
        assert con.execute("select getvariable('changed_units')").fetchall() == [(None,)]
        both = "select in_changed_units('0159'), in_changed_units('0440')"
        assert con.execute(both).fetchall() == [(True, True)]
        con.execute("set variable changed_units = ['0440']")
        assert con.execute(both).fetchall() == [(False, True)]


def test_state_of_another_shape_rebuilds_every_incremental_table():
    """The incremental state is a cache: a warehouse whose state tables have another shape (an older version of
    the code) rebuilds its incremental tables instead of failing."""
    with one_goods_line_warehouse() as con:
        con.execute("drop table intermediate.incremental_state")
        con.execute(
            "create table intermediate.incremental_state (table_name varchar primary key, fingerprint varchar, "
            "rebuilt boolean, new_contents integer, removed_rows bigint, updated_at timestamp with time zone)"
        )
        build_marts(con)
        states = con.execute(
            "select distinct unit, rebuilt from intermediate.incremental_state order by 1"
        ).fetchall()
        assert states == [("file_id", True), ("kommunekode", True)]
        assert con.execute("select goods_lines from intermediate.int_invoice_file_copies").fetchall() == [
            (1,)
        ]


def _as_if_today_were(root: Path, day: date) -> None:
    """The clock moved on: the warehouse's day of loading (the macro load_date() of sql/macros.sql, which the
    ingest SQL and the file checks read) set to `day`. A run keeps it (the macros are re-made only when
    sql/macros.sql changes)."""
    with connect(DataDir(root).warehouse) as con:
        con.execute(f"create or replace macro load_date() as date '{day.isoformat()}'")


def test_a_row_dated_ahead_is_read_again_once_its_day_has_come(tmp_path):
    """A row dated tomorrow is refused today ("a date in the future"). Tomorrow a run from scratch accepts it, so
    the warm run must too: its file is read again. An independent audit found the row refused for good."""
    today = datetime.now(UTC).date()
    tomorrow = today + timedelta(days=1)
    root = tmp_path / "warm"
    tiny_data_set(root)
    header = (root / "raw/invoices/0159/2021.csv").read_text(encoding="utf-8").splitlines()[0]
    (root / "raw/invoices/0440/late.csv").write_text(
        f"{header}\nF9;Faktura;{today};11111111;;;1;2.2;;60,00\nF10;Faktura;{tomorrow};11111111;;;1;2.2;;40,00\n",
        encoding="utf-8",
    )

    def late_file(data: Path) -> tuple:
        with duckdb.connect() as con:
            return con.execute(
                "select rows_read, rows_accepted, rows_quarantined from read_parquet(?) "
                "where source_file = 'invoices/0440/late.csv'",
                [str(data / "marts/ingest_log.parquet")],
            ).fetchone()

    run(root)
    assert late_file(root) == (2, 1, 1)  # F10 refused: dated after the day of loading
    _as_if_today_were(root, tomorrow)
    run(root)
    assert late_file(root) == (2, 2, 0)
    cold = tmp_path / "cold"
    shutil.copytree(root / "raw", cold / "raw")
    _as_if_today_were(cold, tomorrow)
    run(cold)
    assert late_file(cold) == (2, 2, 0)
    assert mart_bytes(root) == mart_bytes(cold)
