"""The SQL parsers of sql/macros.sql (amount, date, CVR, order number), with properties over generated values."""

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.readers.csv_files import LineLengthScan, line_number_at
from pipelines.warehouse import connect


@pytest.fixture(scope="module")
def con():
    with connect() as connection:
        yield connection


def sql(con, expression: str, *params):
    return con.execute(f"select {expression}", list(params)).fetchone()[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234,56", "1234.56"), ("1.234,56", "1234.56"), ("1234.56", "1234.56"), ("-12,50", "-12.50"),
        ("12,50-", "-12.50"), ("1,234.56", "1234.56"), ("1 234,56", "1234.56"), ("1.234", "1234.00"),
        ("1.234.567,8", "1234567.80"), ("0", "0.00"), (" 7 ", "7.00"), ("100 kr.", "100.00"),
    ],
)  # fmt: skip
def test_amount_styles(con, text, expected):
    assert sql(con, "parse_amount(?)", text) == Decimal(expected)


@pytest.mark.parametrize("text", ["abc", "", None, "1,2,3,4", "12..5", "--5", "1.2.3"])
def test_amount_garbage_is_null(con, text):
    assert sql(con, "parse_amount(?)", text) is None


# Text shaped like amounts and quantities, clean and not: digits, marks, signs, spaces, currency.
AMOUNT_LIKE = st.one_of(
    st.from_regex(r"-?[0-9]{0,7}([.,][0-9]{0,4}){0,3}-?", fullmatch=True),
    st.text(alphabet="0123456789.,- +kr", max_size=14),
)


@settings(max_examples=400, deadline=None)
@given(text=AMOUNT_LIKE)
def test_amount_fast_paths_agree_with_the_general_rule(con, text):
    """parse_amount's fast paths only save time: every text reads as parse_amount_general reads it."""
    assert sql(con, "parse_amount(?) is not distinct from parse_amount_general(?)", text, text)


@settings(max_examples=400, deadline=None)
@given(text=AMOUNT_LIKE)
def test_quantity_follows_the_amount_text_rules(con, text):
    general = "try_cast(decimal_amount_text(signed_amount_text(clean_amount_text(?))) as decimal(18, 3))"
    assert sql(con, f"parse_quantity(?) is not distinct from {general}", text, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", "3"),
        ("2,5", "2.5"),
        ("1.5", "1.5"),
        ("1.234", "1234"),
        ("1.2345", "1.235"),
        ("3-", "-3"),
        ("x", None),
    ],
)
def test_quantity_styles(con, text, expected):
    value = sql(con, "parse_quantity(?)", text)
    assert value == (Decimal(expected) if expected is not None else None)


@settings(max_examples=200, deadline=None)
@given(
    cents=st.integers(min_value=-(10**12), max_value=10**12),
    style=st.sampled_from(["plain_comma", "danish", "plain_dot", "english", "trailing_minus"]),
)
def test_amount_round_trip(con, cents, style):
    value = Decimal(cents) / 100
    whole, frac = f"{abs(value):.2f}".split(".")
    grouped_dk = f"{int(whole):,}".replace(",", ".")
    sign = "-" if value < 0 else ""
    text = {
        "plain_comma": f"{sign}{whole},{frac}",
        "danish": f"{sign}{grouped_dk},{frac}",
        "plain_dot": f"{sign}{whole}.{frac}",
        "english": f"{sign}{int(whole):,}.{frac}",
        "trailing_minus": f"{whole},{frac}{'-' if value < 0 else ''}",
    }[style]
    assert sql(con, "parse_amount(?)", text) == value


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31)))
def test_date_styles_round_trip(con, day):
    for text in (
        day.isoformat(),
        day.strftime("%d-%m-%Y"),
        day.strftime("%d.%m.%Y"),
        day.strftime("%d/%m/%Y"),
    ):
        assert sql(con, "parse_date(?)", text) == day, text


@pytest.mark.parametrize("text", ["31-02-2021", "2021-13-01", "abc", "", "21-03-31", "31.3.21"])
def test_impossible_dates_are_null(con, text):
    assert sql(con, "parse_date(?)", text) is None


@settings(max_examples=200, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=8, max_size=8),
    form=st.sampled_from([
        "{d}", "DK{d}", "DK {d}", "dk {d}", "{p}", "DK {a} {b}", "dk{d}", " {d} ", " {p}", "DK:CVR:DK{d}",
        "0184:{d}", "{a}-{b}",
    ]),
)  # fmt: skip
def test_cvr_forms(con, digits, form):
    pairs = " ".join(digits[i : i + 2] for i in range(0, 8, 2))  # 12 34 56 78
    assert sql(con, "parse_cvr(?)", form.format(d=digits, a=digits[:4], b=digits[4:], p=pairs)) == digits


@settings(max_examples=100, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=12).filter(lambda s: len(s) != 8))
def test_cvr_other_lengths_rejected(con, digits):
    assert sql(con, "parse_cvr(?)", digits) is None


@settings(max_examples=200, deadline=None)
@given(number=st.integers(min_value=1, max_value=10**15), zeros=st.integers(min_value=0, max_value=5))
def test_order_number_leading_zeros(con, number, zeros):
    assert sql(con, "normalise_order_number(?)", "0" * zeros + str(number)) == str(number)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="abcXYZ0123 -/", min_size=1, max_size=12))
def test_order_number_normal_form_is_stable(con, text):
    once = sql(con, "normalise_order_number(?)", text)
    if once is not None:
        assert once == once.upper() and " " not in once
        assert sql(con, "normalise_order_number(?)", once) == once


@pytest.mark.parametrize("text", ["", "NA", "n/a", "N.A.", "0", "-", "ingen", "None", "NULL", "  ", "000"])
def test_order_number_placeholders_mean_none(con, text):
    assert sql(con, "normalise_order_number(?)", text) is None


def test_order_number_case_and_spaces(con):
    assert sql(con, "normalise_order_number(?)", " po 12 ab ") == "PO12AB"
    assert sql(con, "normalise_order_number(?)", "0005002701") == sql(
        con, "normalise_order_number(?)", "5002701"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2.2", "2.2"), ("22", "2.2"), ("2.2.1", "2.2"), ("2,9", "2.9"), ("4.9", "4.9"), ("", None),
     ("2.9.9", "2.9"), ("2.9,1", "2.9"), ("2.95", "2.95"), ("2.x", "2.x"), (" 2.2 ", "2.2")],
)  # fmt: skip
def test_art(con, text, expected):
    assert sql(con, "normalise_art(?)", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Faktura", "invoice"), ("KREDITNOTA", "credit_note"), ("kreditnota", "credit_note"), ("Invoice", "invoice"),
     ("CreditNote", "credit_note"), ("380", "invoice"), ("381", "credit_note"), ("Rykker", None)],
)  # fmt: skip
def test_document_types(con, text, expected):
    assert sql(con, "normalise_document_type(?)", text) == expected


def test_kommunekode(con):
    assert sql(con, "normalise_kommunekode(?)", "159") == "0159"
    assert sql(con, "normalise_kommunekode(?)", "0159") == "0159"
    assert sql(con, "normalise_kommunekode(?)", "15") is None


# --- line lengths, checked by the pass that hashes a delivered CSV file ---------------------------------------


@pytest.mark.parametrize(
    ("primary", "listed", "expected"),
    [
        ("22222222", None, ["22222222"]),  # CSV: the primary CVR alone
        (None, None, []),
        ("22222222", [], ["22222222"]),
        ("22222222", ["33333333", "22222222", None, "11111111"], ["11111111", "22222222", "33333333"]),
        (None, ["33333333", "33333333"], ["33333333"]),
    ],
)  # fmt: skip
def test_party_cvrs_are_every_cvr_once_sorted(con, primary, listed, expected):
    assert sql(con, "party_cvrs(?::varchar, ?::varchar[])", primary, listed) == expected


def scan_lines(data: bytes, chunk: int, limit: int) -> int | None:
    """The number of the first line over the limit, as digest_file finds it: the offset from the scan, then
    the line's number from the file."""
    scan = LineLengthScan(limit)
    for start in range(0, len(data), chunk):
        scan.update(data[start : start + chunk])
    if scan.too_long_at is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lines.csv"
        path.write_bytes(data)
        return line_number_at(path, scan.too_long_at)


@settings(max_examples=200, deadline=None)
@given(
    lengths=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=12),
    chunk=st.integers(min_value=1, max_value=16),
    line_break=st.sampled_from([b"\n", b"\r"]),  # LF (or CRLF), or CR only
)
def test_the_first_line_over_the_limit_is_found_in_any_chunking(lengths, chunk, line_break):
    limit = 16
    data = line_break.join(b"x" * n for n in lengths)
    # by hand: the first line (numbered from 1) with more than `limit` bytes before its newline
    expected = next((number for number, n in enumerate(lengths, start=1) if n > limit), None)
    assert scan_lines(data, min(chunk, limit), limit) == expected


def test_a_line_of_exactly_the_limit_passes():
    assert scan_lines(b"ab\n" + b"x" * 16 + b"\ncd\n", 8, 16) is None
    assert scan_lines(b"ab\n" + b"x" * 17 + b"\ncd\n", 8, 16) == 2
