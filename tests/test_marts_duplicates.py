"""METHODS 1: a document delivered more than once counts once; every dropped row is accounted for."""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from pipelines.warehouse import connect
from tests.sql_fixtures import (
    build_marts,
    create_warehouse_tables,
    fetch_dicts,
    insert_invoice_lines,
    insert_order_lines,
)

KBH, CVR_A = "0101", "11111111"
EARLY, LATE = dt.datetime(2022, 1, 10, 8, 0), dt.datetime(2022, 3, 1, 8, 0)


@pytest.fixture
def con() -> Iterator:
    with connect() as connection:
        create_warehouse_tables(connection)
        insert_order_lines(
            connection,
            [
                dict(
                    kommunekode=KBH,
                    order_number="1",
                    order_line_id="1",
                    order_date="2021-02-01",
                    supplier_cvr=CVR_A,
                    amount_kr="1.00",
                )
            ],
        )
        yield connection


def line(number, line_id, amount, file_id, *, delivered_at=EARLY, source_format="csv", record=None, **extra):
    row = dict(
        kommunekode=KBH,
        document_number=number,
        issue_date="2021-03-01",
        supplier_cvr=CVR_A,
        line_id=line_id,
        unspsc="50101500",
        amount_kr=amount,
        file_id=file_id,
        source_file=f"invoices/0101/{file_id}",
        delivered_at=delivered_at,
        source_format=source_format,
        **extra,
    )
    if record is not None:
        row["record_number"] = record
    return row


def goods_spend(con) -> Decimal:
    return fetch_dicts(con, "select goods_spend_kr from marts.mart_kpi_municipality")[0]["goods_spend_kr"]


def duplicates(con) -> list[tuple]:
    return [
        (r["file_id"], r["record_number"], r["reason"], r["kept_file_id"])
        for r in fetch_dicts(
            con,
            "select * from intermediate.int_duplicate_lines where extract_kind = 'invoice' "
            "order by file_id, record_number",
        )
    ]


def test_same_document_in_two_files_counts_once(con):
    insert_invoice_lines(
        con,
        [
            line("F1", "1", "100.00", "a.csv", record=1),
            line("F1", "1", "100.00", "b.csv", record=1, delivered_at=LATE),
        ],
    )
    build_marts(con)
    assert goods_spend(con) == Decimal("100.00")
    assert duplicates(con) == [("a.csv", 1, "superseded_copy", "b.csv")]


def test_corrected_later_file_replaces_all_lines_of_the_earlier_copy(con):
    insert_invoice_lines(
        con,
        [
            line("F1", "1", "100.00", "first.csv", record=1),
            line("F1", "2", "50.00", "first.csv", record=2),
            line("F1", "1", "120.00", "corrected.csv", record=1, delivered_at=LATE),
            line("F2", "1", "7.00", "first.csv", record=3),  # only in the first file: kept
        ],
    )
    build_marts(con)
    assert goods_spend(con) == Decimal("127.00")  # 120 (corrected F1, line 2 gone) + 7
    assert duplicates(con) == [
        ("first.csv", 1, "superseded_copy", "corrected.csv"),
        ("first.csv", 2, "superseded_copy", "corrected.csv"),
    ]


def test_csv_row_wins_over_later_xml_copy(con):
    insert_invoice_lines(
        con,
        [
            line("F1", "1", "100.00", "fin.csv", record=1),
            line("F1", "1", "999.00", "f1.xml", record=1, source_format="xml", delivered_at=LATE),
        ],
    )
    build_marts(con)
    assert goods_spend(con) == Decimal("100.00")
    assert duplicates(con) == [("f1.xml", 1, "superseded_copy", "fin.csv")]


def test_same_line_twice_in_one_file_counts_once(con):
    insert_invoice_lines(
        con,
        [
            line("F1", "1", "100.00", "a.csv", record=1),
            line("F1", "2", "40.00", "a.csv", record=2),
            line("F1", "1", "100.00", "a.csv", record=3),
        ],
    )
    build_marts(con)
    assert goods_spend(con) == Decimal("140.00")
    assert duplicates(con) == [("a.csv", 3, "repeated_line", "a.csv")]


def test_same_number_on_another_date_or_supplier_is_another_document(con):
    insert_invoice_lines(
        con,
        [
            line("F1", "1", "100.00", "a.csv", record=1),
            line("F1", "1", "100.00", "a.csv", record=2) | {"issue_date": "2021-03-02"},
            line("F1", "1", "100.00", "a.csv", record=3) | {"supplier_cvr": "22222222"},
        ],
    )
    build_marts(con)
    assert goods_spend(con) == Decimal("300.00")
    assert duplicates(con) == []


def test_every_staged_row_is_kept_or_a_duplicate(con):
    insert_invoice_lines(
        con,
        [
            line("F1", "1", "100.00", "first.csv", record=1),
            line("F1", "2", "50.00", "first.csv", record=2),
            line("F1", "1", "120.00", "corrected.csv", record=1, delivered_at=LATE),
            line("F1", "1", "120.00", "corrected.csv", record=2, delivered_at=LATE),
            line("F2", "1", "7.00", "f2.xml", record=1, source_format="xml"),
        ],
    )
    build_marts(con)
    per_file = fetch_dicts(
        con,
        """
        select s.file_id, count(*) as staged,
            (select count(*) from intermediate.int_invoice_lines k where k.file_id = s.file_id) as kept,
            (select count(*) from intermediate.int_duplicate_lines d where d.file_id = s.file_id) as dropped
        from staging.stg_invoice_lines s group by s.file_id order by s.file_id
    """,
    )
    assert [(r["file_id"], r["staged"], r["kept"], r["dropped"]) for r in per_file] == [
        ("corrected.csv", 2, 1, 1),
        ("f2.xml", 1, 1, 0),
        ("first.csv", 2, 0, 2),
    ]


@pytest.mark.parametrize(
    ("line_ids", "kept"),
    [
        (["1", "01", " 1"], 3),  # different texts that read as the same number are different line_ids
        (["A", "B", "A"], 2),  # line_ids that are not numbers
        (["1", "65", "65"], 2),  # numbers beyond 64
        (["0", "0"], 1),
        ([str(n) for n in range(1, 71)] + ["7"], 70),  # a long document repeating one line
        ([str(n) for n in range(1, 65)], 64),
    ],
)
def test_repeated_line_id_counts_once_whatever_its_form(con, line_ids, kept):
    insert_invoice_lines(
        con, [line("F1", line_id, "1.00", "a.csv", record=n) for n, line_id in enumerate(line_ids, start=1)]
    )
    build_marts(con)
    assert goods_spend(con) == Decimal(kept)
    assert len(duplicates(con)) == len(line_ids) - kept
    assert one_value(con, "select line_count from intermediate.int_invoice_documents") == kept


def test_order_number_of_a_repeated_line_is_that_of_its_first_record(con):
    insert_invoice_lines(
        con,
        [
            line("F1", "1", "100.00", "a.csv", record=1, order_number="5"),
            # dropped, so order 1 is not its order
            line("F1", "1", "100.00", "a.csv", record=2, order_number="1"),
        ],
    )
    build_marts(con)
    assert one_value(con, "select order_number_norm from intermediate.int_invoice_documents") == "5"
    assert one_value(con, "select is_ehandel from intermediate.int_invoices") is False


def test_repeated_order_line_counts_once_in_the_order_total(con):
    insert_order_lines(
        con,
        [
            dict(
                kommunekode=KBH,
                order_number="7",
                order_line_id=line_id,
                order_date="2021-02-01",
                supplier_cvr=CVR_A,
                amount_kr="50.00",
                file_id="o.csv",
                order_type=order_type,
            )
            for line_id, order_type in (("1", "katalog"), ("2", "katalog"), ("1", "fritekst"))
        ],
    )
    insert_invoice_lines(con, [line("F1", "1", "100.00", "a.csv", record=1, order_number="7")])
    build_marts(con)
    order = fetch_dicts(con, "select * from intermediate.int_orders where order_number_norm = '7'")[0]
    assert (order["line_count"], order["total_kr"], order["is_fritekst"]) == (2, Decimal("100.00"), False)
    assert order["order_types"] == ["katalog"]
    assert one_value(con, "select is_fakturamatch from intermediate.int_invoices") is True


def one_value(con, query: str):
    (row,) = con.execute(query).fetchall()
    return row[0]
