"""Data-quality checks: each passes on a clean delivery and fails, with its severity and the municipality or
file named, on a delivery (or a warehouse) made to break it. Real job runs on tiny hand-made data sets."""

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance
from test_end_to_end import INVOICE_HEADER, ORDER_HEADER, A, B, tiny_data_set, write

from assets.checks import evaluate_all
from assets.quality import files as file_checks
from assets.quality.files import record_verdicts, validate_files
from pipelines.definitions import build_definitions
from pipelines.publication import publishable_marts, withheld_years
from pipelines.warehouse import connect


def run_job(root: Path):
    job = build_definitions(str(root)).resolve_job_def("refresh_warehouse")
    with DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)


def checks(root: Path) -> dict[str, dict]:
    with duckdb.connect() as con:
        frame = con.execute("select * from read_parquet(?)", [str(root / "marts/checks.parquet")]).df()
    return {f"{r['asset']}:{r['check_name']}": r for r in frame.to_dict("records")}


def by_name(results: dict[str, dict], name: str) -> dict:
    (found,) = [r for key, r in results.items() if key.endswith(":" + name)]
    return found


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("clean") / "data"
    tiny_data_set(root)
    result = run_job(root)
    assert result.success
    return root, result


def leap_data_set(root: Path) -> None:
    """Gladsaxe's e-handel share of spend leaps from 20% (2020) to 95% (2021); Kerteminde stays at 50%; an
    invoice file of Kerteminde holds one line dated in the future and an invoice file of Hjørring a 2-mia. kr.
    line besides a good one."""
    raw = root / "raw"
    write(
        raw / "reference/leverandoerer.csv",
        ["cvr;navn;branchekode", f"{A};Grossist A/S;463900", f"{B};Butik ApS;471100"],
    )
    write(raw / "orders/0159/2020.csv", [ORDER_HEADER, f"100;1;2020-03-01;{A};200,00;katalog"])
    write(raw / "invoices/0159/2020.csv", [
        INVOICE_HEADER, f"F1;Faktura;2020-03-02;{A};100;;1;2.2;;200,00", f"F2;Faktura;2020-03-03;{B};;;1;2.2;;800,00",
    ])  # fmt: skip
    write(raw / "orders/0159/2021.csv", [ORDER_HEADER, f"200;1;2021-03-01;{A};950,00;katalog"])
    write(raw / "invoices/0159/2021.csv", [
        INVOICE_HEADER, f"F3;Faktura;2021-03-02;{A};200;;1;2.2;;950,00", f"F4;Faktura;2021-03-03;{B};;;1;2.2;;50,00",
    ])  # fmt: skip
    for year in (2020, 2021):
        write(raw / f"orders/0440/{year}.csv", [ORDER_HEADER, f"3{year};1;{year}-05-01;{A};500,00;katalog"])
        write(raw / f"invoices/0440/{year}.csv", [
            INVOICE_HEADER, f"K{year};Faktura;{year}-05-02;{A};3{year};;1;2.2;;500,00",
            f"L{year};Faktura;{year}-05-03;{B};;;1;2.2;;500,00",
        ])  # fmt: skip
    write(raw / "invoices/0440/late.csv", [INVOICE_HEADER, f"X1;Faktura;2999-01-01;{A};;;1;2.2;;10,00"])
    write(raw / "invoices/0860/2021.csv", [
        INVOICE_HEADER, f"H1;Faktura;2021-01-10;{A};;;1;2.2;;2000000000,00", f"H2;Faktura;2021-01-11;{A};;;1;2.2;;300,00",
    ])  # fmt: skip


@pytest.fixture(scope="module")
def leap(tmp_path_factory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("leap") / "data"
    leap_data_set(root)
    return root, run_job(root)


# --- whole runs --------------------------------------------------------------------------------------------


def test_valid_delivery_fails_no_error_check(clean):
    root, result = clean
    results = checks(root)
    assert len(results) >= 35
    failed = [k for k, r in results.items() if not r["passed"] and r["severity"] == "ERROR"]
    assert failed == []
    assert set(next(iter(results.values()))) == {
        "run_id",
        "asset",
        "check_name",
        "engine",
        "severity",
        "passed",
        "description",
        "details",
        "years",
    }
    assert {r["engine"] for r in results.values()} == {"great_expectations", "sql"}
    assert {r["run_id"] for r in results.values()} == {result.run_id}
    # the Dagster asset checks are reported on their assets
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(results)
    assets = {e.asset_key.to_user_string() for e in evaluations}
    assert {
        "ingest/invoice_lines",
        "marts/mart_kpi_national",
        "intermediate/int_invoice_copy_totals",
    } <= assets


def test_quality_municipality_mart(clean):
    root, _ = clean
    with duckdb.connect() as con:
        rows = con.execute(
            "select year, kommunekode, kommunenavn, invoice_files, order_files, files_refused, rows_read, quarantined_rows, "
            "unknown_suppliers, unknown_supplier_spend_kr, invoices_without_order_number, invoices_order_not_found "
            "from read_parquet(?) order by year nulls last, kommunekode",
            [str(root / "marts/quality_municipality.parquet")],
        ).fetchall()
    assert rows[1] == (2021, "0159", "Gladsaxe", 1, 1, 0, 9, 0, 0, 0, 1, 0)  # F3: no order number
    assert rows[2][:2] == (2021, "0440")
    assert rows[2][8:12] == (
        1,
        900,
        0,
        1,
    )  # supplier C is not in the register; F6's order is another supplier's
    assert rows[-1][:2] == (None, "0159") and rows[-1][7] == 1  # the row with an impossible date


def test_share_leap_warns_and_publishes(leap):
    root, result = leap
    assert result.success
    assert (root / "reports/index.html").exists() and (root / "reports/2021/index.html").exists()
    results = checks(root)
    leap_check = by_name(results, "share_of_spend_leap")
    assert leap_check["severity"] == "WARN" and not leap_check["passed"]
    (row,) = json.loads(leap_check["details"])["rows"]
    assert (row["kommunekode"], row["kommunenavn"], row["previous_year"], row["year"]) == (
        "0159",
        "Gladsaxe",
        2020,
        2021,
    )
    assert row["previous_share_spend"] == pytest.approx(0.2) and row["share_spend"] == pytest.approx(0.95)
    marts_errors = [
        k
        for k, r in results.items()
        if not r["passed"] and r["severity"] == "ERROR" and not k.startswith("ingest/")
    ]
    assert marts_errors == []


def test_implausible_rows_are_quarantined_and_their_files_load(leap):
    """A line dated in the future or of over 1 mia. kr. is quarantined by itself (DATA_CONTRACT "Bad input"):
    its file loads with its other lines, and the file checks pass, the rejected lines not being in their profile."""
    root, _ = leap
    with duckdb.connect() as con:
        log = {
            source: rest
            for source, *rest in con.execute(
                "select source_file, status, reason, rows_read, rows_accepted, rows_quarantined from read_parquet(?)",
                [str(root / "marts/ingest_log.parquet")],
            ).fetchall()
        }
        quarantine = con.execute(
            "select source_file, line_number, reason from read_parquet(?) order by 1, 2",
            [str(root / "marts/quarantine.parquet")],
        ).fetchall()
    assert log["invoices/0440/late.csv"] == ["loaded", None, 1, 0, 1]
    assert log["invoices/0860/2021.csv"] == ["loaded", None, 2, 1, 1]  # H2 accepted
    assert log["invoices/0440/2021.csv"][0] == "loaded"
    today = datetime.now(UTC).date()
    future = [
        f"fakturadato '2999-01-01' is after '{day}', the day the file was loaded: a date in the future cannot be a purchase"
        for day in (today, today - timedelta(days=1))  # the run may have loaded it before midnight (UTC)
    ]
    assert [(s, n) for s, n, _ in quarantine] == [
        ("invoices/0440/late.csv", 2),
        ("invoices/0860/2021.csv", 2),
    ]
    assert quarantine[0][2] in future
    assert quarantine[1][2] == "beloeb '2000000000,00' is over 1 mia. kr. for one line: a misread amount?"
    results = checks(root)
    for kind in ("invoice_lines", "order_lines"):
        for name in ("file_dates_plausible", "file_amounts_plausible"):
            assert results[f"ingest/{kind}:{name}"]["passed"], name


def test_a_file_failing_an_error_file_check_is_kept_out_whole(tmp_path, monkeypatch):
    """What the typing lets through, an ERROR file check still keeps out: here the check's bound is made stricter
    than the ingest SQL's, so that a line the SQL accepts (2,000 kr.) fails file_amounts_plausible."""
    monkeypatch.setattr(file_checks, "MAX_LINE_AMOUNT_KR", 1000)
    root = tmp_path / "data"
    write(root / "raw/reference/leverandoerer.csv", ["cvr;navn;branchekode", f"{A};Grossist A/S;463900"])
    write(
        root / "raw/invoices/0860/2021.csv", [INVOICE_HEADER, f"H1;Faktura;2021-01-10;{A};;;1;2.2;;2000,00"]
    )
    write(root / "raw/invoices/0440/2021.csv", [INVOICE_HEADER, f"K1;Faktura;2021-05-02;{A};;;1;2.2;;500,00"])
    run_job(root)
    with duckdb.connect() as con:
        log = dict(
            con.execute(
                "select source_file, status || ': ' || coalesce(reason, '') from read_parquet(?)",
                [str(root / "marts/ingest_log.parquet")],
            ).fetchall()
        )
        quarantine = con.execute(
            "select source_file, line_number from read_parquet(?)", [str(root / "marts/quarantine.parquet")]
        ).fetchall()
    assert log["invoices/0860/2021.csv"].startswith(
        "rejected: kept out by the data-quality check file_amounts_plausible"
    )
    assert log["invoices/0440/2021.csv"].startswith("loaded")
    assert quarantine == [("invoices/0860/2021.csv", None)]  # the file whole, none of its rows
    amounts = checks(root)["ingest/invoice_lines:file_amounts_plausible"]
    assert amounts["severity"] == "ERROR" and not amounts["passed"]
    (named,) = json.loads(amounts["details"])["files"]
    assert (named["source_file"], named["kommunekode"], named["kept_out"]) == (
        "invoices/0860/2021.csv",
        "0860",
        True,
    )


# --- each check alone, on a warehouse made to break it ------------------------------------------------------


@pytest.fixture
def warehouse(clean, tmp_path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(clean[0] / "marts/warehouse.duckdb", copy)
    return copy


BREAKS = {
    # check name: (statement that breaks it, expected severity, a value its details must name)
    "kpi_national_shares_in_range": (
        "update marts.mart_kpi_national set share_spend = 1.5 where year = 2021",
        "ERROR",
        "1.5",
    ),
    "kpi_national_participants_at_most_98": (
        "update marts.mart_kpi_national set participating_municipalities = 99 where year = 2021",
        "ERROR",
        "99",
    ),
    "kpi_national_totals_non_negative": (
        "update marts.mart_kpi_national set goods_purchases = -1 where year = 2020",
        "ERROR",
        "2020",
    ),
    "kpi_national_one_row_per_year": None,
    "kpi_municipality_shares_in_range": (
        "update marts.mart_kpi_municipality set share_spend = -0.1 where kommunekode = '0440' and year = 2021",
        "ERROR",
        "Kerteminde",
    ),
    "kpi_municipality_spend_non_negative": (
        "update marts.mart_kpi_municipality set ehandel_spend_kr = -5 where kommunekode = '0440'",
        "WARN",
        "0440",
    ),
    "kpi_municipality_one_row_per_key": (
        "insert into marts.mart_kpi_municipality select * from marts.mart_kpi_municipality where kommunekode = '0440'",
        "ERROR",
        "0440",
    ),
    "kpi_municipality_kommunekode_format": (
        "update marts.mart_kpi_municipality set kommunekode = '440' where kommunekode = '0440'",
        "ERROR",
        "440",
    ),
    "category_municipality_counts_non_negative": (
        "update marts.mart_category_municipality set ehandel_purchases = -2 where kommunekode = '0159'",
        "ERROR",
        "0159",
    ),
    "coverage_one_row_per_key": (
        "insert into marts.mart_coverage select * from marts.mart_coverage where kommunekode = '0860'",
        "ERROR",
        "0860",
    ),
    "goods_spend_conserved": (
        "update marts.mart_kpi_municipality set goods_spend_kr = goods_spend_kr + 1 where kommunekode = '0440'",
        "ERROR",
        "0440",
    ),
    "national_equals_municipal_sum": (
        "update marts.mart_kpi_national set ehandel_spend_kr = ehandel_spend_kr + 1 where year = 2021",
        "ERROR",
        "2021",
    ),
    "invoice_line_one_scope_class": (
        # a line counted in two scope classes (the lines are counted per document copy, int_invoice_file_copies)
        "update intermediate.int_invoice_file_copies set goods_lines = goods_lines + 1 where kommunekode = '0860'",
        "ERROR",
        "0860",
    ),
    "document_one_row_per_key": (
        # the same document twice (int_invoices is a view over the copies)
        "insert into intermediate.int_invoice_file_copies "
        "select * from intermediate.int_invoice_file_copies where kommunekode = '0440' limit 1",
        "ERROR",
        "0440",
    ),
    "file_reconciliation": (
        "update marts.mart_ingest_log set reconciled = false, rows_read = 99 where source_file = 'orders/0440/2021.csv'",
        "ERROR",
        "orders/0440/2021.csv",
    ),
    "share_of_spend_leap": (
        "update marts.mart_kpi_municipality set share_spend = 0.6 where kommunekode = '0159' and year = 2021",
        "WARN",
        "Gladsaxe",
    ),
}
BREAKS = {k: v for k, v in BREAKS.items() if v}


@pytest.mark.parametrize("check_name", sorted(BREAKS))
def test_check_fails_when_broken(warehouse, check_name):
    statement, severity, named = BREAKS[check_name]
    with connect(warehouse) as con:
        before = {e["check_name"]: e for e in evaluate_all(con, "clean")}
        con.execute(statement)
        after = {e["check_name"]: e for e in evaluate_all(con, "broken")}
    assert before[check_name]["passed"]
    assert not after[check_name]["passed"]
    assert after[check_name]["severity"] == severity
    assert named in after[check_name]["details"]


def test_a_file_that_does_not_reconcile_withholds_the_years_of_its_lines(warehouse):
    """Only the unreconciled file's lines are read for its years (orders/0440/2021.csv: 2021 only)."""
    with connect(warehouse) as con:
        con.execute(BREAKS["file_reconciliation"][0])
        after = {e["check_name"]: e for e in evaluate_all(con, "broken")}
    assert after["file_reconciliation"]["years"] == [2021]
    assert json.loads(after["file_reconciliation"]["details"])["count"] == 1


# Other ways to break a check: the branches the first break does not reach (check, break, what the details name).
OTHER_BREAKS = {
    "goods lines per category drift": (
        "invoice_line_one_scope_class",
        # the goods lines per category drift from the goods lines per document (the second pass over the lines)
        "update intermediate.int_category_cells set goods_lines = goods_lines + 1 where kommunekode = '0860'",
        "0860",
    ),
    "two copies numbered alike": (
        "document_one_row_per_key",
        # a file that numbered two records alike: different documents, one copy number
        "update intermediate.int_invoice_file_copies set first_record = "
        "(select min(first_record) from intermediate.int_invoice_file_copies where kommunekode = '0440') "
        "where first_record = (select max(first_record) from intermediate.int_invoice_file_copies "
        "where kommunekode = '0440') and kommunekode = '0440'",
        "int_invoice_copy_totals",
    ),
    "an order twice under two copy numbers": (
        "document_one_row_per_key",
        "insert into intermediate.int_order_file_copies select * replace (first_record + 1000 as first_record) "
        "from intermediate.int_order_file_copies where kommunekode = '0440'",
        '"table_name": "int_orders", "document_key": "0440|',
    ),
    "two documents given one document_id": (
        "document_one_row_per_key",
        # a wrong rank row: F6 ranked as a copy of F5
        "insert into intermediate.int_invoice_copy_ranks "
        "select x.copy_number, x.kommunekode, y.copy_number, 1, true, null, null "
        "from intermediate.int_invoice_copy_totals x, intermediate.int_invoice_copy_totals y "
        "where x.document_number = 'F6' and y.document_number = 'F5'",
        '"table_name": "int_invoices", "document_key": "',
    ),
}


@pytest.mark.parametrize("break_name", sorted(OTHER_BREAKS))
def test_check_fails_when_broken_the_other_way(warehouse, break_name):
    check_name, statement, named = OTHER_BREAKS[break_name]
    with connect(warehouse) as con:
        con.execute(statement)
        after = {e["check_name"]: e for e in evaluate_all(con, "broken")}
    assert not after[check_name]["passed"] and after[check_name]["severity"] == "ERROR"
    assert named in after[check_name]["details"]


def test_publication_withholds_the_year_of_a_failed_error_check(warehouse, tmp_path):
    with connect(warehouse) as con:
        con.execute("update marts.mart_kpi_national set share_spend = 1.5 where year = 2021")
        evaluate_all(con, "broken")
        con.execute(f"copy marts.mart_checks to '{tmp_path / 'checks.parquet'}' (format parquet)")
        con.execute(f"copy marts.mart_kpi_national to '{tmp_path / 'kpi_national.parquet'}' (format parquet)")
    withheld = withheld_years(tmp_path / "checks.parquet")
    assert list(withheld) == [2021] and "kpi_national_shares_in_range" in withheld[2021]
    out = publishable_marts(tmp_path, tmp_path / "publishable", set(withheld))
    with duckdb.connect() as con:
        years = con.execute(
            "select list(year order by year) from read_parquet(?)", [str(out / "kpi_national.parquet")]
        ).fetchone()
    assert years == ([2020],)


# --- the file expectations, on one file's typed rows ------------------------------------------------------

FILE_BREAKS = {
    "file_dates_plausible": (
        "update ingest.invoice_rows set issue_date = date '1999-12-31'",
        "ERROR",
        "1999-12-31",
    ),
    "file_amounts_plausible": (
        "update ingest.invoice_rows set amount_kr = -1500000000",
        "ERROR",
        "-1500000000",
    ),
    "file_cvr_format": ("update ingest.invoice_rows set supplier_cvr = '1234567'", "ERROR", "1234567"),
    "file_kommunekode_format": ("update ingest.invoice_rows set kommunekode = '9999'", "ERROR", "9999"),
    "file_document_types": ("update ingest.invoice_rows set document_type = 'receipt'", "ERROR", "receipt"),
    "file_required_values": (
        "update ingest.invoice_rows set line_id = null where record_number = 1",
        "ERROR",
        "1",
    ),
    "file_dates_in_main_years": (  # 150 lines of 2021 and one stray line of 2019 (under 1% of the file)
        "insert into ingest.invoice_rows select l.* from ingest.invoice_rows l, range(150) "
        "where record_number = 1 and file_key = $file_key;"
        "insert into ingest.invoice_rows select * replace (date '2019-06-01' as issue_date) "
        "from ingest.invoice_rows where record_number = 1 and file_key = $file_key limit 1",
        "WARN",
        "2019",
    ),
}


@pytest.mark.parametrize("check_name", sorted(FILE_BREAKS))
def test_file_check_fails_when_broken(warehouse, check_name):
    statement, severity, named = FILE_BREAKS[check_name]
    with connect(warehouse) as con:
        file_id = con.execute(
            "select file_id from ingest.deliveries where source_file = 'invoices/0159/2021.csv'"
        ).fetchone()[0]
        other = con.execute(
            "select file_id from ingest.deliveries where source_file = 'invoices/0440/2021.csv'"
        ).fetchone()[0]
        clean = validate_files(con, "invoices", [file_id, other], today=date(2026, 1, 1))
        assert all(e["passed"] for v in clean.values() for e in v.evaluations)
        (file_key,) = con.execute(
            "select file_key from ingest.files where file_id = ?", [file_id]
        ).fetchall()[0]
        if "$file_key" in statement:
            for part in statement.split(";"):
                con.execute(part, {"file_key": file_key})
        else:
            con.execute(
                statement + (" and" if "where" in statement else " where") + " file_key = ?", [file_key]
            )
        verdicts = validate_files(con, "invoices", [file_id, other], today=date(2026, 1, 1))
        (evaluation,) = [e for e in verdicts[file_id].evaluations if e["check_name"] == check_name]
        assert (
            not evaluation["passed"] and evaluation["severity"] == severity and named in evaluation["details"]
        )
        assert all(e["passed"] for e in verdicts[other].evaluations)  # the other file is not blamed
        assert (verdicts[file_id].refusal is not None) == (severity == "ERROR")
        if severity == "ERROR":
            assert check_name in verdicts[file_id].refusal
            assert record_verdicts(con, "invoices", verdicts) == [file_id]
            assert con.execute(
                "select status, reason, rows_read from ingest.files where file_id = ?", [file_id]
            ).fetchall() == [("rejected", verdicts[file_id].refusal, 0)]
            assert con.execute(
                "select count(*) from ingest.invoice_lines where file_id = ?", [file_id]
            ).fetchone() == (0,)


def test_order_type_outside_the_set_is_an_error(warehouse):
    with connect(warehouse) as con:
        file_id = con.execute(
            "select file_id from ingest.deliveries where source_file = 'orders/0159/2021.csv'"
        ).fetchone()[0]
        con.execute(
            "update ingest.order_rows set order_type = 'telefon' "
            "where file_key = (select file_key from ingest.files where file_id = ?)",
            [file_id],
        )
        verdicts = validate_files(con, "orders", [file_id], today=date(2026, 1, 1))
    (evaluation,) = [e for e in verdicts[file_id].evaluations if e["check_name"] == "file_order_types"]
    assert (
        not evaluation["passed"] and evaluation["severity"] == "ERROR" and "telefon" in evaluation["details"]
    )


def test_a_failed_check_withholds_the_years_of_all_its_rows_not_only_the_listed(warehouse, monkeypatch):
    """More failing rows than the check lists: the years come from every row. Listing one row (sorted by file:
    invoices/0159/2020.csv), a check that took the years of the listed rows only would miss 2021."""
    from assets.quality import marts

    monkeypatch.setattr(marts, "MAX_LISTED", 1)
    with connect(warehouse) as con:
        con.execute(
            "update marts.mart_ingest_log set reconciled = false, rows_read = 99 "
            "where source_file in ('invoices/0159/2020.csv', 'orders/0440/2021.csv')"
        )
        after = {e["check_name"]: e for e in evaluate_all(con, "broken")}["file_reconciliation"]
    details = json.loads(after["details"])
    assert details["count"] == 2 and [row["source_file"] for row in details["rows"]] == [
        "invoices/0159/2020.csv"
    ]
    assert after["years"] == [2020, 2021]


def test_a_file_rewritten_while_the_run_reads_it_is_not_accounted_for_and_stops_publication(
    tmp_path, monkeypatch
):
    """The scan hashed one content, the parser met another: the document is left for the next run. It is
    listed as not read yet, not reconciled, and the reconciliation check fails naming it."""
    from assets import loading

    root = tmp_path / "data"
    tiny_data_set(root)
    document = root / "raw/ubl/0159/pep.xml"
    document.parent.mkdir(parents=True)
    shutil.copy(Path(__file__).parent / "fixtures/ubl_edge/peppol_dk_invoice.xml", document)
    load_new_files = loading.load_new_files

    def rewriting(con, data_dir, log=print):  # after the scan, before the parse
        document.write_text(document.read_text().replace("PEP-2021-0042", "PEP-2021-0043"))
        return load_new_files(con, data_dir, log)

    monkeypatch.setattr(loading, "load_new_files", rewriting)
    result = run_job(root)
    assert not result.success  # the publication stops; the previous one (none here) stays
    with duckdb.connect(str(root / "marts/warehouse.duckdb"), read_only=True) as con:
        logged = con.execute(
            "select status, rows_read, reconciled, reason from marts.mart_ingest_log where source_file = 'ubl/0159/pep.xml'"
        ).fetchall()
        failed = con.execute(
            "select passed, details from marts.mart_checks where check_name = 'file_reconciliation'"
        ).fetchall()
    assert logged == [
        (
            None,
            0,
            False,
            "not read yet: the file changed while the run read the folder (the next run reads it)",
        )
    ]
    assert failed[0][0] is False and "ubl/0159/pep.xml" in failed[0][1]


def test_checks_executed_on_their_own_evaluate_the_warehouse_as_it_is(tmp_path):
    """The UI's "Execute" on two checks (no mart_checks in the run): they are evaluated, not silently skipped."""
    from dagster import AssetCheckKey, AssetKey, AssetSelection, Definitions, define_asset_job

    root = tmp_path / "data"
    leap_data_set(root)
    refresh = run_job(root)
    assert refresh.success
    kpi = AssetKey(["marts", "mart_kpi_municipality"])
    selected = [AssetCheckKey(kpi, "share_of_spend_leap"), AssetCheckKey(kpi, "goods_spend_conserved")]
    defs = Definitions.merge(
        build_definitions(str(root)),
        Definitions(jobs=[define_asset_job("two_checks", selection=AssetSelection.checks(*selected))]),
    )
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("two_checks").execute_in_process(
            instance=instance, raise_on_error=False
        )
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    # Gladsaxe's share leaps from 20% to 95% (WARN, failed); the goods spend is conserved (ERROR, passed)
    assert set(evaluations) == {"share_of_spend_leap", "goods_spend_conserved"}
    assert not evaluations["share_of_spend_leap"].passed and evaluations["goods_spend_conserved"].passed
    with connect(root / "marts" / "warehouse.duckdb") as con:  # what the refresh published stays
        (run_ids,) = con.execute("select list(distinct run_id) from marts.mart_checks").fetchone()
    assert run_ids == [refresh.run_id]


def test_each_check_says_what_its_severity_does():
    from assets.checks import quality_checks

    descriptions = {spec.name: spec.description for spec in quality_checks.check_specs}
    assert descriptions["share_of_spend_leap"].endswith(
        "[WARN: published with a warning on the quality page]"
    )
    assert descriptions["goods_spend_conserved"].endswith(
        "[ERROR: a failure withholds the years it concerns from the reports]"
    )
    assert descriptions["file_required_values"].endswith(
        "[ERROR: a file failing it is kept out of the figures]"
    )
