"""A row dated in the future or before 2000, with a line amount beyond 1 mia. kr., or in a currency other than
DKK is quarantined by itself with its reason, file and line number; the rest of its file loads (DATA_CONTRACT
"Bad input"). The file expectations then pass: the rejected rows are not in their profile."""

import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance
from test_end_to_end import A, B, write
from test_ingest import deliver, ingest

from assets.quality import files as file_checks
from pipelines.definitions import build_definitions
from pipelines.settings import DataDir
from pipelines.warehouse import connect

UC1_ORDER = Path(__file__).parent / "fixtures/ubl/peppol-bis3/UC1_Order.xml"  # an e-order in EUR, 3 lines
INVOICE_HEADER = "fakturanummer;dokumenttype;fakturadato;leverandoer_cvr;linjenummer;art;beloeb"
ORDER_HEADER = "ordrenummer;ordrelinje;ordredato;leverandoer_cvr;beloeb;ordretype;valuta"
EUR = "currency EUR: no exchange rate to DKK is known, so the amount cannot be counted"
NOK = "currency NOK: no exchange rate to DKK is known, so the amount cannot be counted"
OVER = "beloeb '{}' is over 1 mia. kr. for one line: a misread amount?"
UNDER = "beloeb '{}' is under -1 mia. kr. for one line: a misread amount?"
BEFORE = "{} '{}' is before 2000-01-01, the earliest date accepted: a misread date?"


def utc_today() -> date:
    return datetime.now(UTC).date()


def after(column: str, text: str, today: date) -> str:
    return f"{column} '{text}' is after '{today}', the day the file was loaded: a date in the future cannot be a purchase"


def same_day(today: date) -> None:
    if utc_today() != today:
        pytest.skip("the load ran over midnight (UTC): its day is not known to the test")


def test_the_file_expectations_repeat_the_bounds_of_the_ingest_sql(tmp_path):
    """sql/macros.sql is the authority; assets/quality/files.py must say the same. The day of loading is the UTC
    date in both, whatever the session's time zone (a local date could run a day ahead of the file checks')."""
    with connect(tmp_path / "warehouse.duckdb") as con:
        con.execute("set TimeZone = 'Pacific/Kiritimati'")  # UTC+14
        today = utc_today()
        min_date, max_amount, load_date = con.execute(
            "select plausible_min_date(), max_line_amount_kr(), load_date()"
        ).fetchone()  # type: ignore[misc]
    same_day(today)
    assert (min_date, max_amount) == (file_checks.MIN_DATE, file_checks.MAX_LINE_AMOUNT_KR)
    assert load_date == today


@pytest.fixture
def data(tmp_path) -> DataDir:
    return DataDir.resolve(tmp_path / "data")


def test_implausible_invoice_rows_are_quarantined_and_the_rest_loads(data):
    today = utc_today()
    deliver(data, "invoices/0159/2021.csv", "\n".join([
        INVOICE_HEADER,
        f"F1;Faktura;2021-03-01;{A};1;2.2;100,00",
        f"F2;Faktura;2201-03-31;{A};1;2.2;100,00",            # in the future
        f"F3;Faktura;31-12-1999;{A};1;2.2;100,00",            # before 2000, as the file writes it
        f"F4;Faktura;2021-03-02;{A};1;2.2;2.000.000.000,00",  # over 1 mia. kr.
        f"F5;Kreditnota;2021-03-03;{A};1;2.2;-1500000000",    # under -1 mia. kr.
        f"F6;Faktura;2000-01-01;{A};1;2.2;1.000.000.000,00",  # the first day and the largest amount: accepted
        f"K1;Kreditnota;{today};{B};1;2.2;1000000000",        # the day of loading, -1 mia. kr.: accepted
        f"F7;Faktura;2201-03-31;{A};1;2.2;3000000000",        # two reasons
    ]) + "\n")  # fmt: skip
    files, lines, rejected = ingest(data)
    same_day(today)
    assert files == [("invoices/0159/2021.csv", "loaded", None, 8)] and rejected == []
    assert [(doc, amount, reason) for doc, _, amount, reason, *_ in lines] == [
        ("F1", Decimal("100.00"), None),
        ("F2", Decimal("100.00"), after("fakturadato", "2201-03-31", today)),
        ("F3", Decimal("100.00"), BEFORE.format("fakturadato", "31-12-1999")),
        ("F4", Decimal("2000000000.00"), OVER.format("2.000.000.000,00")),
        ("F5", Decimal("-1500000000.00"), UNDER.format("-1500000000")),
        ("F6", Decimal("1000000000.00"), None),
        ("K1", Decimal("-1000000000.00"), None),
        (
            "F7",
            Decimal("3000000000.00"),
            after("fakturadato", "2201-03-31", today) + "; " + OVER.format("3000000000"),
        ),
    ]
    with connect(data.warehouse) as con:
        failed = con.execute("select check_name from ingest.file_checks where not passed").fetchall()
    assert failed == []


def test_order_lines_in_another_currency_or_out_of_bounds_are_quarantined(data):
    """The currency of an order CSV's optional `valuta` column and of an XML order, as for invoices."""
    today = utc_today()
    deliver(data, "orders/0159/2021.csv", "\n".join([
        ORDER_HEADER,
        f"1001;1;2021-02-01;{A};600,00;katalog;DKK",
        f"1001;2;2021-02-01;{A};400,00;katalog;",       # no currency: DKK
        f"1002;1;2021-02-02;{A};50,00;katalog;EUR",
        f"1003;1;2021-02-03;{A};70,00;katalog; dkk ",
        f"1004;1;2999-01-01;{A};80,00;katalog;DKK",
        f"1005;1;2021-02-04;{A};-1.000.000.000,01;katalog;nok",
    ]) + "\n")  # fmt: skip
    deliver(data, "ubl/0159/UC1_Order.xml", UC1_ORDER.read_text(encoding="utf-8"))
    files, _, rejected = ingest(data)
    same_day(today)
    assert [(source, status, rows) for source, status, _, rows in files] == [
        ("orders/0159/2021.csv", "loaded", 6), ("ubl/0159/UC1_Order.xml", "loaded", 3),
    ]  # fmt: skip
    assert rejected == []
    with connect(data.warehouse) as con:
        lines = con.execute(
            "select source_format, order_number, order_line_id, amount_kr, reject_reason from ingest.order_lines "
            "order by source_format, record_number"
        ).fetchall()
        failed = con.execute("select check_name from ingest.file_checks where not passed").fetchall()
        xml_records = con.execute(
            "select raw_record from ingest.order_lines where source_format = 'xml' order by record_number"
        ).fetchall()
    # an XML line has no raw text: the values it was read with tell its lines apart
    assert [record for (record,) in xml_records] == [
        "ordrelinje 1; beloeb 40.00; valuta EUR; varebeskrivelse 1x12 pack sauce bags",
        "ordrelinje 2; beloeb 30.00; valuta EUR; varebeskrivelse 1x12 pack sauce bags",
        "ordrelinje 3; beloeb 45.00; valuta EUR; varebeskrivelse 1x12 pack sauce bags",
    ]
    assert lines == [
        ("csv", "1001", "1", Decimal("600.00"), None),
        ("csv", "1001", "2", Decimal("400.00"), None),
        ("csv", "1002", "1", Decimal("50.00"), EUR),
        ("csv", "1003", "1", Decimal("70.00"), None),
        ("csv", "1004", "1", Decimal("80.00"), after("ordredato", "2999-01-01", today)),
        ("csv", "1005", "1", Decimal("-1000000000.01"), UNDER.format("-1.000.000.000,01") + "; " + NOK),
        ("xml", "1", "1", Decimal("40.00"), EUR),
        ("xml", "1", "2", Decimal("30.00"), EUR),
        ("xml", "1", "3", Decimal("45.00"), EUR),
    ]
    assert failed == []


# --- a whole run: the quarantine with line numbers, the ingest log, the file checks ----------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, date]:
    root = tmp_path_factory.mktemp("plausibility") / "data"
    raw = root / "raw"
    write(raw / "reference/leverandoerer.csv", ["cvr;navn;branchekode", f"{A};Grossist A/S;463900"])
    write(raw / "invoices/0159/2021.csv", [
        INVOICE_HEADER,
        f"F1;Faktura;2021-03-01;{A};1;2.2;100,00",
        f"F2;Faktura;2201-03-31;{A};1;2.2;100,00",
        f"F3;Faktura;2021-03-02;{A};1;2.2;200,00",
        f"F4;Faktura;1999-12-31;{A};1;2.2;100,00",
        f"F5;Faktura;2021-03-03;{A};1;2.2;2.000.000.000,00",
        f"F6;Faktura;2021-03-04;{A};1;2.2;300,00",
    ])  # fmt: skip
    write(raw / "orders/0159/2021.csv", [
        ORDER_HEADER, f"1001;1;2021-02-01;{A};600,00;katalog;DKK", f"1002;1;2021-02-02;{A};50,00;katalog;EUR",
    ])  # fmt: skip
    (raw / "ubl/0159").mkdir(parents=True)
    shutil.copy(UC1_ORDER, raw / "ubl/0159/UC1_Order.xml")
    today = utc_today()
    job = build_definitions(str(root)).resolve_job_def("refresh_warehouse")
    with DagsterInstance.ephemeral() as instance:
        assert job.execute_in_process(instance=instance, raise_on_error=False).success
    same_day(today)
    return root, today


def parquet(path: Path, query: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(query.replace("{file}", f"'{path}'")).fetchall()


def test_each_bad_row_is_in_the_quarantine_with_its_line_and_reason(run):
    root, today = run
    quarantine = parquet(
        root / "marts/quarantine.parquet",
        "select source_file, line_number, reason from {file} order by source_file, line_number, reason",
    )
    assert quarantine == [
        ("invoices/0159/2021.csv", 3, after("fakturadato", "2201-03-31", today)),
        ("invoices/0159/2021.csv", 5, BEFORE.format("fakturadato", "1999-12-31")),
        ("invoices/0159/2021.csv", 6, OVER.format("2.000.000.000,00")),
        ("orders/0159/2021.csv", 3, EUR),
        ("ubl/0159/UC1_Order.xml", None, EUR),  # an XML document has no line numbers
        ("ubl/0159/UC1_Order.xml", None, EUR),
        ("ubl/0159/UC1_Order.xml", None, EUR),
    ]


def test_the_files_load_with_their_good_rows(run):
    root, _ = run
    log = parquet(
        root / "marts/ingest_log.parquet",
        "select source_file, status, rows_read, rows_accepted, rows_quarantined, reconciled from {file} order by 1",
    )
    assert log == [
        ("invoices/0159/2021.csv", "loaded", 6, 3, 3, True),
        ("orders/0159/2021.csv", "loaded", 2, 1, 1, True),
        ("ubl/0159/UC1_Order.xml", "loaded", 3, 0, 3, True),
    ]
    # F1 + F3 + F6, all goods: the rejected rows count nowhere
    (spend,) = parquet(
        root / "marts/kpi_municipality.parquet",
        "select goods_spend_kr from {file} where year = 2021 and kommunekode = '0159'",
    )
    assert spend == (600,)


def test_the_file_checks_pass(run):
    root, _ = run
    checks = parquet(
        root / "marts/checks.parquet",
        "select asset || ':' || check_name, passed from {file} where check_name like 'file_%plausible'",
    )
    assert sorted(checks) == [
        ("ingest/invoice_lines:file_amounts_plausible", True),
        ("ingest/invoice_lines:file_dates_plausible", True),
        ("ingest/order_lines:file_amounts_plausible", True),
        ("ingest/order_lines:file_dates_plausible", True),
    ]
