"""Properties of the marts over a seeded random fixture of a few hundred staged rows."""

import random
from collections.abc import Iterator

import pytest

from pipelines.warehouse import connect
from tests.sql_fixtures import (
    build_marts,
    create_warehouse_tables,
    fetch_dicts,
    insert_invoice_lines,
    insert_order_lines,
    insert_suppliers,
)

MUNICIPALITIES = ["0101", "0147", "0151", "0461", "0751"]
CVRS = ["11111111", "22222222", "33333333", "44444444", "55555555"]
UNSPSC = ["50101500", "43211500", "47131800", "72101500", "44121600", None]
ARTS = ["2.2", "2.7", "4.9", "22", None, None, None]

KEYS = {
    "mart_kpi_national": ["year"],
    "mart_kpi_municipality": ["year", "kommunekode"],
    "mart_category_national": ["year", "category"],
    "mart_category_municipality": ["year", "kommunekode", "category"],
    "mart_industry_national": ["year", "industry_code"],
    "mart_industry_municipality": ["year", "kommunekode", "industry_code"],
    "mart_coverage": ["year", "kommunekode"],
    "mart_compliance_national": ["year", "aftalenummer", "category"],
    "mart_compliance_municipality": ["year", "kommunekode", "aftalenummer", "category"],
}


def random_fixture(seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    invoices, orders = [], []
    for n in range(120):
        kommunekode = rng.choice(MUNICIPALITIES)
        year = rng.choice([2020, 2021])
        cvr = rng.choice(CVRS)
        number = f"{rng.randint(1, 60):07d}" if rng.random() < 0.6 else rng.choice(["", "NA", None])
        if kommunekode != "0751" and number and rng.random() < 0.7:  # Aarhus never delivers orders
            order_total = 0
            for line in range(rng.randint(1, 3)):
                amount = rng.randint(100, 50000) / 100
                order_total += amount
                orders.append(
                    dict(
                        kommunekode=kommunekode,
                        order_number=number.lstrip("0"),
                        order_line_id=str(line + 1),
                        order_date=f"{year}-{rng.randint(1, 12):02d}-01",
                        supplier_cvr=rng.choice([cvr, cvr, None]),
                        amount_kr=f"{amount:.2f}",
                        order_type=rng.choice(["katalog", "punchout", "fritekst"]),
                    )
                )
        date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        for line in range(rng.randint(1, 4)):
            invoices.append(
                dict(
                    kommunekode=kommunekode,
                    document_number=f"F{n}",
                    issue_date=date,
                    supplier_cvr=cvr,
                    line_id=str(line + 1),
                    unspsc=rng.choice(UNSPSC),
                    art=rng.choice(ARTS),
                    amount_kr=f"{rng.randint(1000, 100000) / 100:.2f}",
                    order_number=number,
                )
            )
        if rng.random() < 0.15:
            invoices.append(
                dict(
                    kommunekode=kommunekode,
                    document_number=f"K{n}",
                    document_type="credit_note",
                    issue_date=date,
                    supplier_cvr=cvr,
                    line_id="1",
                    unspsc="50101500",
                    amount_kr=f"-{rng.randint(1, 500) / 100:.2f}",
                    credited_document_number=f"F{n}",
                )
            )
        if rng.random() < 0.1:  # the same document delivered again in another file
            invoices.extend(
                [
                    {
                        **row,
                        "file_id": f"again-{kommunekode}",
                        "source_file": f"invoices/{kommunekode}/again.csv",
                    }
                    for row in invoices
                    if row["document_number"] == f"F{n}"
                ]
            )
    return invoices, orders


@pytest.fixture(scope="module", params=[1, 2, 3])
def con(request) -> Iterator:
    with connect() as connection:
        create_warehouse_tables(connection)
        invoices, orders = random_fixture(request.param)
        insert_invoice_lines(connection, invoices)
        insert_order_lines(connection, orders)
        insert_suppliers(
            connection, [(CVRS[0], "A", "463900"), (CVRS[1], "B", "471100"), (CVRS[2], "C", "521000")]
        )
        build_marts(connection)
        yield connection


def test_fixture_is_big_enough_and_varied(con):
    counts = fetch_dicts(
        con,
        """
        select count(*) as lines, count(*) filter (where participating) as participating,
            count(*) filter (where not participating) as not_participating
        from marts.mart_coverage
    """,
    )[0]
    assert counts["participating"] >= 4 and counts["not_participating"] >= 1
    assert fetch_dicts(con, "select count(*) as n from staging.stg_invoice_lines")[0]["n"] >= 200


@pytest.mark.parametrize(("mart", "key"), KEYS.items())
def test_one_row_per_key(con, mart, key):
    columns = ", ".join(key)
    rows = fetch_dicts(
        con, f"select {columns}, count(*) as n from marts.{mart} group by all having count(*) > 1"
    )
    assert rows == []


def test_shares_are_fractions(con):
    shares = {
        "mart_kpi_national": [
            "share_spend",
            "share_purchases",
            "most_traded_category_share",
            "fakturamatch_rate",
        ],
        "mart_kpi_municipality": [
            "share_spend",
            "share_purchases",
            "fakturamatch_rate",
            "region_share_spend",
            "peer_share_spend",
            "national_share_spend",
            "national_share_purchases",
        ],
        "mart_category_national": ["share_spend", "share_purchases", "ehandel_purchase_share"],
        "mart_industry_national": ["share_purchases"],
    }
    for mart, columns in shares.items():
        for column in columns:
            bad = fetch_dicts(con, f"select {column} from marts.{mart} where not ({column} between 0 and 1)")
            assert bad == [], (mart, column)


def test_national_sums_are_sums_over_participating_municipalities(con):
    rows = fetch_dicts(
        con,
        """
        select n.year, n.goods_spend_kr, n.ehandel_spend_kr, n.goods_purchases, n.ehandel_purchases,
            n.participating_municipalities, n.transaction_cost_kr,
            sum(m.goods_spend_kr) as m_goods, sum(m.ehandel_spend_kr) as m_ehandel,
            sum(m.goods_purchases) as m_purchases, sum(m.ehandel_purchases) as m_ehandel_purchases,
            count(*) as m_count, sum(m.transaction_cost_kr) as m_cost
        from marts.mart_kpi_national n
        join marts.mart_kpi_municipality m on m.year = n.year and m.participating
        group by all
    """,
    )
    assert rows
    for r in rows:
        assert r["goods_spend_kr"] == r["m_goods"]
        assert r["ehandel_spend_kr"] == r["m_ehandel"]
        assert r["goods_purchases"] == r["m_purchases"]
        assert r["ehandel_purchases"] == r["m_ehandel_purchases"]
        assert r["participating_municipalities"] == r["m_count"]
        assert r["transaction_cost_kr"] == r["m_cost"]


@pytest.mark.parametrize("breakdown", ["category", "industry"])
def test_breakdowns_add_up(con, breakdown):
    key = "category" if breakdown == "category" else "industry_code"
    national = fetch_dicts(
        con,
        f"""
        select n.year, n.{key}, n.goods_spend_kr, n.ehandel_spend_kr,
            sum(m.goods_spend_kr) as m_goods, sum(m.ehandel_spend_kr) as m_ehandel
        from marts.mart_{breakdown}_national n
        join marts.mart_{breakdown}_municipality m on m.year = n.year and m.{key} = n.{key} and m.participating
        group by all
    """,
    )
    assert national
    for r in national:
        assert (r["goods_spend_kr"], r["ehandel_spend_kr"]) == (r["m_goods"], r["m_ehandel"])
    totals = fetch_dicts(
        con,
        f"""
        select k.year, k.goods_spend_kr, k.goods_purchases,
            sum(b.goods_spend_kr) as b_goods, sum(b.goods_purchases) as b_purchases
        from marts.mart_kpi_national k join marts.mart_{breakdown}_national b using (year)
        group by all
    """,
    )
    for r in totals:
        assert r["goods_spend_kr"] == r["b_goods"]  # every goods kr. is in exactly one cell
        if breakdown == "category":
            assert r["b_purchases"] >= r["goods_purchases"]  # a purchase counts in each of its categories
        else:
            assert r["b_purchases"] == r["goods_purchases"]  # one supplier, one industry per invoice


def test_column_types(con):
    types = {
        (r["table_name"], r["column_name"]): r["data_type"]
        for r in fetch_dicts(
            con,
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'marts'",
        )
    }
    for (table, column), kind in types.items():
        if column.endswith("_kr"):
            assert kind == "DECIMAL(18,2)", (table, column)
        elif column.startswith(("rank_", "size_")):
            assert kind == "BIGINT", (table, column)
        elif "share" in column or column.endswith("_rate") or column.startswith("growth_ehandel"):
            assert kind == "DOUBLE", (table, column)
        elif column.endswith(("_purchases", "_municipalities", "_lines", "_count")) or column in {"orders"}:
            assert kind == "BIGINT", (table, column)
