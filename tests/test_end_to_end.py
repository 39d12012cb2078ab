"""One end-to-end materialisation of every asset on a tiny data set whose figures are worked out by hand."""

import json
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, Definitions

from pipelines.definitions import build_definitions

INVOICE_HEADER = "fakturanummer;dokumenttype;fakturadato;leverandoer_cvr;ordrenummer;krediteret_fakturanummer;linjenummer;art;unspsc;beloeb"
ORDER_HEADER = "ordrenummer;ordrelinje;ordredato;leverandoer_cvr;beloeb;ordretype"
A, B, C = (
    "11111111",
    "22222222",
    "33333333",
)  # suppliers: A wholesale (46), B retail (47), C not in the register


def write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def tiny_data_set(root: Path) -> None:
    raw = root / "raw"
    write(
        raw / "reference/leverandoerer.csv",
        ["cvr;navn;branchekode", f"{A};Grossist A/S;463900", f"{B};Butik ApS;471100"],
    )
    # Gladsaxe 2020: one e-handel purchase of 100 kr.
    write(raw / "orders/0159/2020.csv", [ORDER_HEADER, f"900;1;2020-05-01;{A};100,00;katalog"])
    write(raw / "invoices/0159/2020.csv", [INVOICE_HEADER, f"F0;Faktura;2020-05-03;{A};900;;1;2.2;;100,00"])
    # Gladsaxe 2021
    write(raw / "orders/0159/2021.csv", [
        ORDER_HEADER,
        f"1001;1;2021-02-01;{A};600,00;katalog", f"1001;2;2021-02-01;{A};400,00;katalog",
        f"2002;1;2021-03-01;{B};500,00;fritekst",
    ])  # fmt: skip
    write(raw / "invoices/0159/2021.csv", [
        INVOICE_HEADER,
        f"F1;Faktura;2021-02-05;{A};0001001;;1;2.2;;600,00",   # e-handel, fakturamatch (1000 = 1000)
        f"F1;Faktura;2021-02-05;{A};0001001;;2;2.2;;400,00",
        f"F2;Faktura;2021-03-05;{B};2002;;1;2.9;;520,00",      # e-handel (fritekst), 520 vs 500: no fakturamatch
        f"F3;Faktura;2021-04-05;{A};NA;;1;2.2;;300,00",        # goods, not e-handel
        f"F4;Faktura;2021-04-06;{A};;;1;4.9;50101500;200,00",  # art 4.9 decides: not goods, not a purchase
        f"K1;Kreditnota;2021-02-20;{A};;F1;1;2.2;;100,00",     # credits F1: e-handel, -100
        f"F9;Faktura;2021-13-01;{A};;;1;2.2;;1,00",            # no such date: quarantined
    ])  # fmt: skip
    # Kerteminde 2021: one e-handel purchase; the same order number at another supplier does not match
    write(raw / "orders/0440/2021.csv", [ORDER_HEADER, f"3003;1;2021-06-01;{A};100,00;katalog"])
    write(raw / "invoices/0440/2021.csv", [
        INVOICE_HEADER, f"F5;Faktura;2021-06-03;{A};3003;;1;2.2;;100,00", f"F6;Faktura;2021-06-03;{C};3003;;1;2.2;;900,00",
    ])  # fmt: skip
    # Hjørring 2021: invoices but no orders: not participating
    write(raw / "invoices/0860/2021.csv", [INVOICE_HEADER, f"F7;Faktura;2021-01-10;{A};;;1;2.2;;5000,00"])


def refresh_tiny_data_set(root: Path) -> Definitions:
    """The tiny data set written to root/raw and refreshed once (every layer); the definitions it ran."""
    tiny_data_set(root)
    defs = build_definitions(str(root))
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("refresh_warehouse").execute_in_process(
            instance=instance, raise_on_error=True
        )
    assert result.success
    return defs


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("e2e") / "data"
    refresh_tiny_data_set(root)
    return root


def rows(path: Path, query: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(query.replace("{file}", f"'{path}'")).fetchall()


def test_national_figures_by_hand(published):
    national = rows(
        published / "marts/kpi_national.parquet",
        "select year, participating_municipalities, goods_spend_kr, ehandel_spend_kr, share_spend, goods_purchases, "
        "ehandel_purchases, share_purchases, growth_ehandel_spend, largest_category, largest_category_ehandel_spend_kr, "
        "largest_category_ehandel_purchases, most_traded_category, most_traded_category_share, typical_industry_code, "
        "typical_industry_municipalities, fakturamatch_rate from {file} order by year",
    )
    y2020, y2021 = national
    assert y2020[:9] == (2020, 1, 100, 100, 1.0, 1, 1, 1.0, None)
    # 2021: Gladsaxe goods 600+400+520+300-100 = 1720, e-handel 1000+520-100 = 1420; Kerteminde 1000 / 100.
    assert y2021[1:4] == (2, 2720, 1520)
    assert y2021[4] == pytest.approx(1520 / 2720)
    assert y2021[5:8] == (5, 3, pytest.approx(3 / 5))
    assert y2021[8] == pytest.approx(1420 / 100 - 1)  # like-for-like: Gladsaxe only
    # Fødevarer: e-handel 1000 - 100 + 100 = 1000 kr. in F1, F5 (2 of 3 e-handel purchases)
    assert y2021[9:14] == ("Fødevarer", 1000, 2, "Fødevarer", pytest.approx(2 / 3))
    assert y2021[14:16] == ("46", 2)
    assert y2021[16] == pytest.approx(2 / 3)  # F1 and F5 match their orders, F2 does not


def test_municipal_figures_and_coverage(published):
    municipal = rows(
        published / "marts/kpi_municipality.parquet",
        "select kommunekode, participating, goods_spend_kr, ehandel_spend_kr, fritekst_purchases, "
        "transaction_cost_kr, potential_saving_kr from {file} where year = 2021 order by kommunekode",
    )
    assert municipal[0] == ("0159", True, 1720, 1420, 1, 68 + 99 + 130, 68 + 99 + 130 - 3 * 68)
    assert municipal[1][:4] == ("0440", True, 1000, 100)
    assert municipal[2][:2] == ("0860", False)
    coverage = rows(
        published / "marts/coverage.parquet",
        "select kommunekode, invoice_lines, order_lines, participating from {file} where year = 2021 order by 1",
    )
    delivered = [row for row in coverage if row[1] or row[2]]
    assert delivered == [("0159", 6, 3, True), ("0440", 2, 1, True), ("0860", 1, 0, False)]
    # every municipality is listed: the other 95 delivered nothing for 2021
    assert len(coverage) == 98 and ("0563", 0, 0, False) in coverage  # Fanø


def test_quarantine_and_reconciliation(published):
    quarantine = rows(
        published / "marts/quarantine.parquet", "select source_file, line_number, reason from {file}"
    )
    assert quarantine == [
        (
            "invoices/0159/2021.csv",
            8,
            "fakturadato '2021-13-01' is not a date (e.g. 2021-03-31 or 31-03-2021)",
        )
    ]
    log = rows(
        published / "marts/ingest_log.parquet",
        "select source_file, rows_read, rows_accepted, rows_quarantined, rows_duplicate, reconciled from {file} "
        "where source_file = 'invoices/0159/2021.csv'",
    )
    assert log == [("invoices/0159/2021.csv", 7, 6, 1, 0, True)]


def test_reports_and_manifest(published):
    manifest = json.loads((published / "marts/manifest.json").read_text())
    assert set(manifest) == {"input_fingerprint", "code_version", "run_id", "generated_at"}
    assert (published / "reports/index.html").exists()
    assert (published / "reports/2021/index.html").exists()
    assert (published / "reports/2021/0159.html").exists()
