"""One test per rule of METHODS.md on hand-made staging rows; every expected figure is worked out by hand."""

from collections.abc import Iterator
from decimal import Decimal

import pytest

from pipelines.warehouse import connect
from tests.sql_fixtures import (
    build_marts,
    create_warehouse_tables,
    fetch_dicts,
    insert_agreements,
    insert_invoice_lines,
    insert_order_lines,
    insert_suppliers,
)

KBH, FRB, BAL, ODENSE = "0101", "0147", "0151", "0461"
CVR_A, CVR_B, CVR_C = "11111111", "22222222", "33333333"
FOOD, IT, CLEANING = "50101500", "43211500", "47131800"


@pytest.fixture
def con() -> Iterator:
    with connect() as connection:
        create_warehouse_tables(connection)
        yield connection


def invoice(kommunekode, number, cvr, amount, *, date="2021-03-01", line="1", unspsc=FOOD, **extra) -> dict:
    return dict(
        kommunekode=kommunekode,
        document_number=number,
        issue_date=date,
        supplier_cvr=cvr,
        line_id=line,
        unspsc=unspsc,
        amount_kr=amount,
        **extra,
    )


def order(kommunekode, number, cvr, amount, *, date="2021-02-15", line="1", **extra) -> dict:
    return dict(
        kommunekode=kommunekode,
        order_number=number,
        order_date=date,
        supplier_cvr=cvr,
        order_line_id=line,
        amount_kr=amount,
        **extra,
    )


def one(con, query: str, params: list | None = None) -> dict:
    rows = fetch_dicts(con, query, params)
    assert len(rows) == 1, rows
    return rows[0]


def municipality(con, kommunekode: str, year: int = 2021) -> dict:
    return one(
        con,
        "select * from marts.mart_kpi_municipality where kommunekode = ? and year = ?",
        [kommunekode, year],
    )


def national(con, year: int = 2021) -> dict:
    return one(con, "select * from marts.mart_kpi_national where year = ?", [year])


def ehandel_of(con, number: str) -> bool:
    return one(con, "select is_ehandel from intermediate.int_invoices where document_number = ?", [number])[
        "is_ehandel"
    ]


# --- METHODS 2 and 3: scope and category ---


def test_known_art_decides_scope_and_unspsc_decides_category(con):
    insert_invoice_lines(
        con,
        [
            invoice(KBH, "F1", CVR_A, "100.00", line="1", art="4.9", unspsc=FOOD),  # services art: not goods
            invoice(
                KBH, "F1", CVR_A, "200.00", line="2", art=None, unspsc=FOOD
            ),  # no art, food segment: goods
            invoice(KBH, "F1", CVR_A, "300.00", line="3", art="2.2", unspsc=IT),  # goods art, IT category
            invoice(KBH, "F1", CVR_A, "400.00", line="4", art="2.2", unspsc=None),  # art 2.2 -> Fødevarer
            invoice(KBH, "F1", CVR_A, "500.00", line="5", art="2.9", unspsc=None),  # art 2.9 -> Øvrige varer
            invoice(
                KBH, "F1", CVR_A, "600.00", line="6", art="9.9", unspsc=CLEANING
            ),  # unknown art: UNSPSC decides
            invoice(KBH, "F1", CVR_A, "700.00", line="7", art=None, unspsc=None),  # nothing: unclassified
            invoice(
                KBH, "F1", CVR_A, "800.00", line="8", art=None, unspsc="72101500"
            ),  # no art, services segment: not varekoeb=ja, so unclassified (METHODS 2.3)
            invoice(KBH, "F1", CVR_A, "900.00", line="9", art="2.5", unspsc=FOOD),  # known non-goods art 2.5
        ],
    )
    insert_order_lines(con, [order(KBH, "X1", CVR_B, "1.00")])
    build_marts(con)
    lines = {
        r["line_id"]: (r["scope_class"], r["category"] if r["scope_class"] == "goods" else None)
        for r in fetch_dicts(con, "select line_id, scope_class, category from intermediate.int_invoice_lines")
    }
    assert lines == {
        "1": ("not_goods", None),
        "2": ("goods", "Fødevarer"),
        "3": ("goods", "IT og telefoni"),
        "4": ("goods", "Fødevarer"),
        "5": ("goods", "Øvrige varer"),
        "6": ("goods", "Rengøring og hygiejne"),
        "7": ("unclassified", None),
        "8": ("unclassified", None),
        "9": ("not_goods", None),
    }
    row = municipality(con, KBH)
    assert row["goods_spend_kr"] == Decimal("2000.00")  # 200 + 300 + 400 + 500 + 600
    assert row["unclassified_spend_kr"] == Decimal("1500.00")  # 700 + 800
    assert row["goods_purchases"] == 1


def test_reference_goods_arts_are_exactly_those_of_methods(con):
    rows = fetch_dicts(con, "select art from reference.kontoplan_arter where varekoeb = 'ja' order by art")
    assert [r["art"] for r in rows] == ["2.2", "2.3", "2.7", "2.9"]


# --- METHODS 5: e-handel matching ---


def test_order_number_with_leading_zeros_matches(con):
    insert_invoice_lines(con, [invoice(KBH, "F1", CVR_A, "100.00", order_number="0005002701")])
    insert_order_lines(con, [order(KBH, "5002701", CVR_A, "100.00")])
    build_marts(con)
    assert ehandel_of(con, "F1") is True
    assert municipality(con, KBH)["ehandel_spend_kr"] == Decimal("100.00")


def test_same_order_number_at_another_supplier_does_not_match(con):
    insert_invoice_lines(con, [invoice(KBH, "F1", CVR_A, "100.00", order_number="5002701")])
    insert_order_lines(con, [order(KBH, "5002701", CVR_B, "100.00")])
    build_marts(con)
    assert ehandel_of(con, "F1") is False
    assert municipality(con, KBH)["ehandel_spend_kr"] == Decimal("0.00")


def test_same_order_number_in_another_municipality_does_not_match(con):
    insert_invoice_lines(con, [invoice(KBH, "F1", CVR_A, "100.00", order_number="777")])
    insert_order_lines(con, [order(FRB, "777", CVR_A, "100.00"), order(KBH, "1", CVR_A, "5.00")])
    build_marts(con)
    assert ehandel_of(con, "F1") is False


def test_order_naming_no_cvr_matches_on_number_alone(con):
    insert_invoice_lines(con, [invoice(KBH, "F1", CVR_A, "100.00", order_number="PO-9")])
    insert_order_lines(con, [order(KBH, "po-9", None, "100.00", source_format="xml", file_id="o.xml")])
    build_marts(con)
    assert ehandel_of(con, "F1") is True


def test_any_cvr_in_common_matches_xml_supplier_identifiers(con):
    # COMDEL: the order names the endpoint CVR, the invoice the legal entity's and the endpoint's
    insert_invoice_lines(
        con,
        [
            invoice(
                KBH,
                "F1",
                CVR_A,
                "100.00",
                order_number="42",
                supplier_cvrs=[CVR_A, CVR_B],
                source_format="xml",
                file_id="f1.xml",
            ),
        ],
    )
    insert_order_lines(con, [order(KBH, "42", CVR_B, "100.00", supplier_cvrs=[CVR_B])])
    build_marts(con)
    assert ehandel_of(con, "F1") is True


def test_credit_note_linked_only_through_credited_invoice_is_ehandel_and_negative(con):
    insert_invoice_lines(
        con,
        [
            invoice(KBH, "F1", CVR_A, "1000.00", order_number="42"),
            invoice(KBH, "K1", CVR_A, "-200.00", document_type="credit_note", credited_document_number="F1"),
            # crediting a number of the same municipality but from another supplier: not e-handel
            invoice(KBH, "K2", CVR_B, "-50.00", document_type="credit_note", credited_document_number="F1"),
        ],
    )
    insert_order_lines(con, [order(KBH, "42", CVR_A, "1000.00")])
    build_marts(con)
    assert ehandel_of(con, "K1") is True
    assert ehandel_of(con, "K2") is False
    row = municipality(con, KBH)
    assert row["goods_spend_kr"] == Decimal("750.00")  # 1000 - 200 - 50
    assert row["ehandel_spend_kr"] == Decimal("800.00")  # 1000 - 200
    assert row["goods_purchases"] == 1  # credit notes are not purchases
    assert row["ehandel_purchases"] == 1


def test_fritekst_purchases_counted_apart(con):
    insert_invoice_lines(
        con,
        [
            invoice(KBH, "F1", CVR_A, "100.00", order_number="1"),
            invoice(KBH, "F2", CVR_A, "100.00", order_number="2"),
        ],
    )
    insert_order_lines(
        con,
        [
            order(KBH, "1", CVR_A, "100.00", order_type="fritekst"),
            order(KBH, "2", CVR_A, "100.00", order_type="punchout"),
        ],
    )
    build_marts(con)
    row = municipality(con, KBH)
    assert (row["ehandel_purchases"], row["fritekst_purchases"]) == (2, 1)
    assert national(con)["fritekst_purchases"] == 1


# --- METHODS 6: participation, pooling, growth, categories, industries ---


def test_municipality_without_orders_is_left_out_of_national_figures(con):
    insert_invoice_lines(
        con,
        [
            invoice(KBH, "F1", CVR_A, "100.00", order_number="1"),
            invoice(FRB, "F9", CVR_A, "5000.00"),  # Frederiksberg delivered invoices only
        ],
    )
    insert_order_lines(con, [order(KBH, "1", CVR_A, "100.00")])
    build_marts(con)
    nat = national(con)
    assert nat["participating_municipalities"] == 1
    assert nat["delivering_municipalities"] == 2
    assert nat["goods_spend_kr"] == Decimal("100.00")
    assert nat["share_spend"] == 1.0
    coverage = {
        r["kommunekode"]: (r["invoice_lines"], r["order_lines"], r["participating"])
        for r in fetch_dicts(con, "select * from marts.mart_coverage where invoice_lines + order_lines > 0")
    }
    assert coverage == {KBH: (1, 1, True), FRB: (1, 0, False)}
    frb = municipality(con, FRB)
    assert frb["participating"] is False
    assert frb["goods_spend_kr"] == Decimal("5000.00")
    assert frb["ehandel_spend_kr"] is None and frb["share_spend"] is None and frb["rank_share_spend"] is None
    categories = fetch_dicts(con, "select * from marts.mart_category_national")
    assert [(r["category"], r["goods_spend_kr"]) for r in categories] == [("Fødevarer", Decimal("100.00"))]


def test_orders_of_another_year_do_not_make_a_municipality_participate(con):
    insert_invoice_lines(con, [invoice(KBH, "F1", CVR_A, "100.00", order_number="1", date="2021-01-05")])
    insert_order_lines(con, [order(KBH, "1", CVR_A, "100.00", date="2020-12-20")])
    build_marts(con)
    coverage = fetch_dicts(
        con, f"select year, participating from marts.mart_coverage where kommunekode = '{KBH}' order by year"
    )
    assert coverage == [{"year": 2020, "participating": False}, {"year": 2021, "participating": False}]
    assert ehandel_of(con, "F1") is True  # matching is not limited to the order's year
    assert fetch_dicts(con, "select * from marts.mart_kpi_national") == []


def test_national_shares_are_pooled_sums_over_sums(con):
    insert_invoice_lines(
        con,
        [
            invoice(KBH, "F1", CVR_A, "100.00", order_number="1"),
            invoice(FRB, "F2", CVR_A, "900.00"),
            invoice(FRB, "F3", CVR_A, "1.00", order_number="2"),
            invoice(FRB, "F4", CVR_A, "1.00"),
        ],
    )
    insert_order_lines(con, [order(KBH, "1", CVR_A, "100.00"), order(FRB, "2", CVR_A, "1.00")])
    build_marts(con)
    # KBH: 100 / 100 = 1.0 and 1/1; FRB: 1 / 902 and 1/3. Pooled: 101 / 1002 and 2 / 4 (mean would be ~0.5 / 0.67)
    nat = national(con)
    assert nat["ehandel_spend_kr"] == Decimal("101.00")
    assert nat["goods_spend_kr"] == Decimal("1002.00")
    assert nat["share_spend"] == pytest.approx(101 / 1002)
    assert nat["share_purchases"] == pytest.approx(0.5)
    frb = municipality(con, FRB)
    assert frb["national_share_spend"] == pytest.approx(101 / 1002)
    assert frb["region_share_purchases"] == pytest.approx(0.5)  # both are in Region Hovedstaden
    assert (municipality(con, KBH)["rank_share_spend"], frb["rank_share_spend"]) == (1, 2)
    assert (municipality(con, KBH)["size_quintile"], frb["size_quintile"]) == (
        1,
        2,
    )  # 1 = smallest goods spend


def test_growth_is_like_for_like_and_ignores_a_new_municipality(con):
    insert_invoice_lines(
        con,
        [
            invoice(KBH, "A20", CVR_A, "100.00", order_number="1", date="2020-05-01"),
            invoice(KBH, "A21", CVR_A, "150.00", order_number="2", date="2021-05-01"),
            invoice(FRB, "B21", CVR_A, "1000.00", order_number="3", date="2021-05-01"),  # new in 2021
        ],
    )
    insert_order_lines(
        con,
        [
            order(KBH, "1", CVR_A, "100.00", date="2020-04-01"),
            order(KBH, "2", CVR_A, "150.00", date="2021-04-01"),
            order(FRB, "3", CVR_A, "1000.00", date="2021-04-01"),
        ],
    )
    build_marts(con)
    assert national(con, 2020)["growth_ehandel_spend"] is None
    nat = national(con, 2021)
    assert nat["growth_ehandel_spend"] == pytest.approx(0.5)  # 150 / 100 - 1, Frederiksberg left out
    assert nat["growth_municipalities"] == 1
    assert municipality(con, KBH)["growth_ehandel_spend"] == pytest.approx(0.5)
    assert municipality(con, FRB)["growth_ehandel_spend"] is None


def test_purchase_counted_once_per_category_and_once_in_total(con):
    insert_invoice_lines(
        con,
        [
            invoice(KBH, "F1", CVR_A, "10.00", line="1", unspsc=FOOD, order_number="1"),
            invoice(KBH, "F1", CVR_A, "20.00", line="2", unspsc=FOOD, order_number="1"),
            invoice(KBH, "F1", CVR_A, "30.00", line="3", unspsc=IT, order_number="1"),
            invoice(KBH, "F1", CVR_A, "40.00", line="4", unspsc="72101500", order_number="1"),  # services
        ],
    )
    insert_order_lines(con, [order(KBH, "1", CVR_A, "100.00")])
    build_marts(con)
    rows = fetch_dicts(
        con,
        "select category, goods_spend_kr, goods_purchases, ehandel_purchases, ehandel_purchase_share "
        "from marts.mart_category_national order by category",
    )
    assert rows == [
        {
            "category": "Fødevarer",
            "goods_spend_kr": Decimal("30.00"),
            "goods_purchases": 1,
            "ehandel_purchases": 1,
            "ehandel_purchase_share": 1.0,
        },
        {
            "category": "IT og telefoni",
            "goods_spend_kr": Decimal("30.00"),
            "goods_purchases": 1,
            "ehandel_purchases": 1,
            "ehandel_purchase_share": 1.0,
        },
    ]
    nat = national(con)
    assert (nat["goods_purchases"], nat["ehandel_purchases"], nat["goods_spend_kr"]) == (
        1,
        1,
        Decimal("60.00"),
    )


def test_largest_and_most_traded_category(con):
    insert_invoice_lines(
        con,
        [
            invoice(KBH, "F1", CVR_A, "1000.00", unspsc=IT, order_number="1"),
            invoice(KBH, "F2", CVR_A, "10.00", unspsc=FOOD, order_number="2"),
            invoice(KBH, "F3", CVR_A, "10.00", unspsc=FOOD, order_number="3"),
            invoice(KBH, "F4", CVR_A, "5000.00", unspsc=CLEANING),  # largest goods spend, but not e-handel
        ],
    )
    insert_order_lines(
        con,
        [
            order(KBH, "1", CVR_A, "1000.00"),
            order(KBH, "2", CVR_A, "10.00"),
            order(KBH, "3", CVR_A, "10.00"),
        ],
    )
    build_marts(con)
    nat = national(con)
    assert (
        nat["largest_category"],
        nat["largest_category_ehandel_spend_kr"],
        nat["largest_category_ehandel_purchases"],
    ) == ("IT og telefoni", Decimal("1000.00"), 1)
    assert nat["most_traded_category"] == "Fødevarer"
    assert nat["most_traded_category_share"] == pytest.approx(2 / 3)


def test_typical_industry_ties_take_lowest_code_and_unknown_cvr_is_ukendt_branche(con):
    insert_suppliers(con, [(CVR_A, "Grossist A/S", "463900"), (CVR_B, "Butik ApS", "471100")])
    insert_invoice_lines(
        con,
        [
            # København: 46 and 47 tie at 100 kr. e-handel -> 46
            invoice(KBH, "F1", CVR_A, "100.00", order_number="1"),
            invoice(KBH, "F2", CVR_B, "100.00", order_number="2"),
            # Frederiksberg: the unregistered supplier C has the most e-handel -> Ukendt branche
            invoice(FRB, "F3", CVR_C, "500.00", order_number="3"),
            invoice(FRB, "F4", CVR_B, "400.00", order_number="4"),
            invoice(FRB, "F5", CVR_A, "9000.00"),  # not e-handel: does not count for the typical industry
            # Ballerup: 46
            invoice(BAL, "F6", CVR_A, "50.00", order_number="6"),
        ],
    )
    insert_order_lines(
        con,
        [
            order(KBH, "1", CVR_A, "100.00"),
            order(KBH, "2", CVR_B, "100.00"),
            order(FRB, "3", CVR_C, "500.00"),
            order(FRB, "4", CVR_B, "400.00"),
            order(BAL, "6", CVR_A, "50.00"),
        ],
    )
    build_marts(con)
    assert municipality(con, KBH)["typical_industry_code"] == "46"
    assert (
        municipality(con, FRB)["typical_industry_code"],
        municipality(con, FRB)["typical_industry_name"],
    ) == ("00", "Ukendt branche")
    nat = national(con)
    assert (
        nat["typical_industry_code"],
        nat["typical_industry_name"],
        nat["typical_industry_municipalities"],
    ) == ("46", "Engroshandel undtagen med motorkøretøjer og motorcykler", 2)
    industries = {
        r["industry_code"]: (r["goods_spend_kr"], r["ehandel_spend_kr"], r["supplier_count"])
        for r in fetch_dicts(con, "select * from marts.mart_industry_national")
    }
    assert industries == {
        "00": (Decimal("500.00"), Decimal("500.00"), 1),
        "46": (Decimal("9150.00"), Decimal("150.00"), 1),
        "47": (Decimal("500.00"), Decimal("500.00"), 1),
    }


# --- METHODS 7: fakturamatch and transaction costs ---


@pytest.mark.parametrize(
    ("order_total", "invoice_total", "is_match"),
    [
        ("50.00", "51.00", True),  # 1 kr. is the larger tolerance below 100 kr.
        ("50.00", "51.01", False),
        ("50.00", "49.00", True),
        ("50.00", "48.99", False),
        ("200.00", "202.00", True),  # 1% of 200 = 2 kr.
        ("200.00", "202.01", False),
        ("200.00", "198.00", True),
        ("200.00", "197.99", False),
    ],
)
def test_fakturamatch_tolerance_is_max_of_1_kr_and_1_percent(con, order_total, invoice_total, is_match):
    insert_invoice_lines(con, [invoice(KBH, "F1", CVR_A, invoice_total, order_number="1")])
    insert_order_lines(con, [order(KBH, "1", CVR_A, order_total)])
    build_marts(con)
    assert one(con, "select is_fakturamatch from intermediate.int_invoices")["is_fakturamatch"] is is_match
    assert municipality(con, KBH)["fakturamatch_rate"] == (1.0 if is_match else 0.0)


def test_fakturamatch_compares_all_lines_and_picks_the_closest_of_several_orders(con):
    insert_invoice_lines(
        con,
        [
            invoice(KBH, "F1", CVR_A, "150.00", line="1", order_number="7"),
            invoice(
                KBH, "F1", CVR_A, "50.00", line="2", unspsc="78101800", order_number="7"
            ),  # freight: not goods
        ],
    )
    insert_order_lines(
        con,
        [
            order(KBH, "7", CVR_A, "120.00", line="1"),
            order(KBH, "7", CVR_A, "80.00", line="2"),
            order(
                KBH, "7", CVR_A, "150.00", date="2020-01-10", order_type="fritekst"
            ),  # same number, older order
        ],
    )
    build_marts(con)
    row = one(con, "select * from intermediate.int_invoices")
    assert (row["candidate_orders"], row["order_total_kr"], row["is_fakturamatch"], row["is_fritekst"]) == (
        2,
        Decimal("200.00"),
        True,
        False,
    )


def test_transaction_cost_and_potential_saving(con):
    insert_invoice_lines(
        con,
        [
            invoice(KBH, "F1", CVR_A, "100.00", order_number="1"),  # fakturamatch: 68
            invoice(KBH, "F2", CVR_A, "300.00", order_number="2"),  # e-handel, no match: 99
            invoice(KBH, "F3", CVR_A, "10.00"),  # other: 130
            invoice(KBH, "F4", CVR_A, "20.00"),  # other: 130
            invoice(KBH, "F5", CVR_A, "5.00", unspsc="72101500"),  # no goods line: not a purchase
        ],
    )
    insert_order_lines(con, [order(KBH, "1", CVR_A, "100.00"), order(KBH, "2", CVR_A, "100.00")])
    build_marts(con)
    row = municipality(con, KBH)
    assert (row["goods_purchases"], row["ehandel_purchases"], row["fakturamatch_purchases"]) == (4, 2, 1)
    assert row["fakturamatch_rate"] == 0.5
    assert row["transaction_cost_kr"] == Decimal("427.00")  # 68 + 99 + 2 x 130
    assert row["potential_saving_kr"] == Decimal("155.00")  # 427 - 4 x 68
    nat = national(con)
    assert (nat["transaction_cost_kr"], nat["potential_saving_kr"]) == (Decimal("427.00"), Decimal("155.00"))


# --- METHODS 8: compliance ---


def test_compliance_share_of_category_spend_with_agreement_suppliers_in_validity(con):
    insert_agreements(
        con,
        [
            ("50.90", "Fødevarer", "Fødevarer", CVR_A, "2021-01-01", "2021-06-30"),
            ("50.90", "Fødevarer", "Fødevarer", CVR_B, "2021-04-01", "2021-06-30"),
        ],
    )
    insert_invoice_lines(
        con,
        [
            invoice(KBH, "F1", CVR_A, "300.00", date="2021-02-01"),  # agreement supplier
            invoice(KBH, "F2", CVR_B, "100.00", date="2021-02-01"),  # B not yet on the agreement
            invoice(KBH, "F3", CVR_C, "100.00", date="2021-05-01"),  # not an agreement supplier
            invoice(KBH, "F4", CVR_A, "999.00", date="2021-08-01"),  # after the validity period
            invoice(KBH, "F5", CVR_A, "50.00", date="2021-03-01", unspsc=IT),  # other category
            invoice(FRB, "F6", CVR_C, "400.00", date="2021-03-01"),  # Frederiksberg: not participating
        ],
    )
    insert_order_lines(con, [order(KBH, "X", CVR_A, "1.00")])
    build_marts(con)
    nat = one(con, "select * from marts.mart_compliance_national")
    assert (nat["year"], nat["aftalenummer"], nat["aftale_navn"], nat["category"]) == (
        2021,
        "50.90",
        "Fødevarer",
        "Fødevarer",
    )
    assert (nat["category_spend_kr"], nat["agreement_spend_kr"]) == (Decimal("500.00"), Decimal("300.00"))
    assert nat["compliance_share"] == pytest.approx(0.6)
    municipal = {
        r["kommunekode"]: (r["category_spend_kr"], r["agreement_spend_kr"])
        for r in fetch_dicts(con, "select * from marts.mart_compliance_municipality")
    }
    assert municipal == {
        KBH: (Decimal("500.00"), Decimal("300.00")),
        FRB: (Decimal("400.00"), Decimal("0.00")),
    }
    # the suppliers behind each part, for the disclosure rule: KBH's category A, B, C; on the agreement A; the rest
    # B (not yet on it) and C; FRB's only C, off the agreement
    suppliers = {
        r["kommunekode"]: (r["category_suppliers"], r["agreement_suppliers"], r["other_suppliers"])
        for r in fetch_dicts(con, "select * from marts.mart_compliance_municipality")
    }
    assert suppliers == {KBH: (3, 1, 2), FRB: (1, 0, 1)}
