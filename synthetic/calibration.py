"""An independent reference computation of the national figures, straight from the raw files (METHODS.md).

Deliberately small and separate from the pipeline (no shared SQL or readers beyond the header mapping of
assets/readers/layouts.py), so that the two can be cross-checked: CSV files are sniffed and transcoded here,
XML documents parsed with lxml, and METHODS 1-7 restated in one DuckDB query chain.

    python -m synthetic.calibration DATA_DIR      # prints the figures per year as JSON
"""

import csv
import io
import json
import sys
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
from lxml import etree  # pyright: ignore[reportAttributeAccessIssue]  (no stubs for the compiled module)

from assets.readers.layouts import map_header
from synthetic.world import read_reference

INVOICE_FIELDS = ("kommunekode", "fakturanummer", "dokumenttype", "fakturadato", "leverandoer_cvr", "ordrenummer",
                  "krediteret_fakturanummer", "unspsc", "art", "beloeb")  # fmt: skip
ORDER_FIELDS = ("kommunekode", "ordrenummer", "ordredato", "leverandoer_cvr", "beloeb")
CVR_SCHEMES = ("DK:CVR", "0184")


def _sniff(path: Path, tmp: Path) -> tuple[Path, str, list[str]]:
    """(a UTF-8 file DuckDB can read, delimiter, header cells); Windows-1252 and BOM files are transcoded."""
    data = path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8-sig")
        readable = path if not bom else None
    except UnicodeDecodeError:
        text = data.decode("cp1252")
        readable = None
    if readable is None:
        readable = tmp / f"{len(list(tmp.iterdir()))}.csv"
        readable.write_text(text, encoding="utf-8")
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    header = next(csv.reader(io.StringIO(first), delimiter=delimiter))
    return readable, delimiter, header


def _load_csv(
    con: duckdb.DuckDBPyConnection, raw: Path, kind: str, fields: tuple[str, ...], tmp: Path
) -> None:
    columns = ", ".join(f"{f} varchar" for f in fields)
    con.execute(f"create table {kind}_csv (folder varchar, {columns})")
    groups: dict[tuple, list[str]] = {}
    for path in sorted((raw / kind).glob("*/*.csv")):
        readable, delimiter, header = _sniff(path, tmp)
        groups.setdefault((path.parent.name, delimiter, tuple(header)), []).append(str(readable))
    for (folder, delimiter, header), files in groups.items():
        _, mapping = map_header(kind, list(header))
        names = [mapping.get(i, f"_unused{i}") for i in range(len(header))]
        select = ", ".join(f if f in names else f"null as {f}" for f in fields)
        spec = ", ".join(f"{n!r}: 'VARCHAR'" for n in names)
        con.execute(
            f"insert into {kind}_csv select ? as folder, {select} from read_csv(?, delim = ?, header = true, "
            f"quote = '\"', escape = '\"', auto_detect = false, columns = {{{spec}}})",
            [folder, files, delimiter],
        )


def _text(node, path: str, ns: dict) -> str | None:
    found = node.find(path, ns)
    return found.text.strip() if found is not None and found.text else None


def _load_xml(con: duckdb.DuckDBPyConnection, raw: Path) -> None:
    ns = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
          "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}  # fmt: skip
    rows: dict[str, list] = {k: [] for k in ("folder", "root", "number", "issue_date", "cvrs", "order_ref",
                                             "billing_ref", "amount", "unspsc")}  # fmt: skip
    for path in sorted((raw / "ubl").glob("*/**/*.xml")):
        root = etree.parse(str(path)).getroot()
        kind = etree.QName(root).localname
        party = root.find("cac:SellerSupplierParty/cac:Party" if kind == "Order" else
                          "cac:AccountingSupplierParty/cac:Party", ns)  # fmt: skip
        cvrs: list[str] = []
        for xpath in (
            "cac:PartyLegalEntity/cbc:CompanyID",
            "cac:PartyIdentification/cbc:ID",
            "cbc:EndpointID",
        ):
            for node in party.findall(xpath, ns) if party is not None else []:
                digits = "".join(ch for ch in (node.text or "") if ch.isdigit())
                if node.get("schemeID") in CVR_SCHEMES and len(digits) == 8 and digits not in cvrs:
                    cvrs.append(digits)
        line_path = {"Invoice": "cac:InvoiceLine", "CreditNote": "cac:CreditNoteLine",
                     "Order": "cac:OrderLine/cac:LineItem"}[kind]  # fmt: skip
        for line in root.findall(line_path, ns):
            code = line.find(
                "cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode[@listID='UNSPSC']", ns
            )
            rows["folder"].append(path.relative_to(raw / "ubl").parts[0])
            rows["root"].append(kind)
            rows["number"].append(_text(root, "cbc:ID", ns))
            rows["issue_date"].append(_text(root, "cbc:IssueDate", ns))
            rows["cvrs"].append(cvrs)
            rows["order_ref"].append(_text(root, "cac:OrderReference/cbc:ID", ns))
            rows["billing_ref"].append(
                _text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", ns)
            )
            rows["amount"].append(_text(line, "cbc:LineExtensionAmount", ns))
            rows["unspsc"].append(code.text.strip() if code is not None and code.text else None)
    table = pa.table({k: pa.array(v, type=pa.list_(pa.string()) if k == "cvrs" else pa.string())
                      for k, v in rows.items()})  # fmt: skip
    con.register("xml_rows", table)
    con.execute("create table xml_lines as select * from xml_rows")
    con.unregister("xml_rows")


def _load_reference(con: duckdb.DuckDBPyConnection, raw: Path) -> None:
    con.execute("create table suppliers as select * from read_csv(?, delim = ';', header = true, all_varchar = true)",
                [str(raw / "reference" / "leverandoerer.csv")])  # fmt: skip
    segs = read_reference("unspsc_segmenter")
    con.execute("create table segments (segment varchar, category varchar, goods boolean)")
    con.executemany("insert into segments values (?, ?, ?)",
                    [(r["segment"], r["indkoebskategori"], r["varekoeb"] == "ja") for r in segs])  # fmt: skip
    arts = read_reference("kontoplan_arter")
    con.execute("create table arts (art varchar, goods boolean)")
    con.executemany("insert into arts values (?, ?)", [(r["art"], r["varekoeb"] == "ja") for r in arts])


# METHODS 1, 2, 3, 5 on text: parsers written independently of sql/macros.sql.
_MACROS = r"""
create or replace macro c_kommune(x) as lpad(trim(x), 4, '0');
create or replace macro c_date(x) as case
    when trim(x) like '____-__-__' then try_cast(trim(x) as date)
    else try_cast(substr(trim(x), 7, 4) || '-' || substr(trim(x), 4, 2) || '-' || substr(trim(x), 1, 2) as date) end;
create or replace macro c_amount(x) as try_cast(case when x like '%,%'
    then replace(replace(x, '.', ''), ',', '.') else x end as decimal(18, 2));
create or replace macro c_digits(x) as regexp_replace(coalesce(x, ''), '[^0-9]', '', 'g');
create or replace macro c_cvr(x) as case when length(c_digits(x)) = 8 then c_digits(x) end;
create or replace macro c_compact(x) as regexp_replace(upper(trim(coalesce(x, ''))), '\s+', '', 'g');
create or replace macro c_order_of_compact(c) as case
    when c in ('', 'NA', 'N/A', 'N.A.', '0', '-', 'INGEN', 'NONE', 'NULL') then null
    when regexp_full_match(c, '[0-9]+') then nullif(ltrim(c, '0'), '')
    else c end;
create or replace macro c_order(x) as c_order_of_compact(c_compact(x));
create or replace macro c_art_of_digits(d) as case when length(d) >= 2 then d[1] || '.' || d[2] end;
create or replace macro c_art(x) as c_art_of_digits(c_digits(x));
create or replace macro c_doctype(x) as case lower(trim(x)) when 'faktura' then 'invoice' when 'invoice' then 'invoice'
    when '380' then 'invoice' when 'kreditnota' then 'credit_note' when 'creditnote' then 'credit_note'
    when '381' then 'credit_note' end;
"""

_FIGURES = r"""
create table csv_lines as
with texts as (
    select folder, kommunekode, dokumenttype, fakturanummer, fakturadato, krediteret_fakturanummer, unspsc,
        c_digits(leverandoer_cvr) as cvr_digits, c_compact(ordrenummer) as order_compact,
        c_digits(art) as art_digits, trim(beloeb) as amount_text
    from invoices_csv
), parsed as (
    select c_kommune(folder) as kommune, c_kommune(nullif(trim(kommunekode), '')) as own_kommune,
        c_doctype(dokumenttype) as doc_type, trim(fakturanummer) as number, c_date(fakturadato) as issue_date,
        case when length(cvr_digits) = 8 then cvr_digits end as cvr, c_order_of_compact(order_compact) as order_norm,
        nullif(trim(krediteret_fakturanummer), '') as credited, c_art_of_digits(art_digits) as art,
        case when length(trim(unspsc)) = 8 then trim(unspsc) end as unspsc, c_amount(amount_text) as raw_amount
    from texts
)
select kommune, 'csv' as source, doc_type, number, issue_date, cvr, [cvr] as cvrs, order_norm, credited, art,
    unspsc, raw_amount
from parsed
where issue_date is not null and raw_amount is not null and cvr is not null and doc_type is not null
    and (own_kommune is null or own_kommune = kommune);

create table xml_invoice_lines as
select c_kommune(folder) as kommune, 'xml' as source,
    case root when 'Invoice' then 'invoice' else 'credit_note' end as doc_type, number,
    cast(issue_date as date) as issue_date, cvrs[1] as cvr, cvrs, c_order(order_ref) as order_norm,
    billing_ref as credited, null as art, unspsc, cast(amount as decimal(18, 2)) as raw_amount
from xml_lines where root <> 'Order';

-- METHODS 1: a CSV finance row wins over the XML copy of the same document
create table lines as
select *, year(issue_date) as year,
    case when doc_type = 'credit_note' then -abs(raw_amount) else raw_amount end as amount
from (
    select * from csv_lines
    union all
    select x.* from xml_invoice_lines x
    where not exists (select 1 from csv_lines c where c.kommune = x.kommune and c.cvr = x.cvr
        and c.doc_type = x.doc_type and c.number = x.number and c.issue_date = x.issue_date)
);

create table classified as
select l.*, left(l.unspsc, 2) as segment,
    case when l.art is not null then coalesce(a.goods, false) else coalesce(s.goods, false) end as goods,
    coalesce(s.category, case l.art when '2.2' then 'Fødevarer' when '2.3' then 'Brændstof og energi'
        when '2.7' then 'Øvrige varer' when '2.9' then 'Øvrige varer' end) as category
from lines l
left join arts a on a.art = l.art
left join segments s on s.segment = left(l.unspsc, 2);

create table orders as
with parsed as (
    select c_kommune(folder) as kommune, c_kommune(nullif(trim(kommunekode), '')) as own_kommune,
        c_order(ordrenummer) as order_norm, c_cvr(leverandoer_cvr) as cvr, c_date(ordredato) as order_date,
        c_amount(trim(beloeb)) as amount
    from orders_csv
)
select kommune, order_norm, cvr, order_date, amount from parsed
where order_date is not null and amount is not null and order_norm is not null
    and (own_kommune is null or own_kommune = kommune)
union all
select c_kommune(folder), c_order(number), unnest(case when len(cvrs) = 0 then [null] else cvrs end),
    cast(issue_date as date), cast(amount as decimal(18, 2))
from xml_lines where root = 'Order';

create table order_totals as
select kommune, order_norm, cvr, sum(amount) as total from orders group by all;

create table docs as
select kommune, cvr, doc_type, number, issue_date, any_value(year) as year, any_value(cvrs) as cvrs,
    any_value(order_norm) as order_norm, any_value(credited) as credited,
    sum(amount) as total, sum(case when goods then amount else 0 end) as goods_amount, bool_or(goods) as has_goods
from classified group by kommune, cvr, doc_type, number, issue_date;

create table matched as
select d.kommune, d.cvr, d.doc_type, d.number, d.issue_date, min(abs(d.total - o.total)
    - greatest(1, 0.01 * abs(o.total))) <= 0 as fakturamatch
from docs d join order_totals o on o.kommune = d.kommune and o.order_norm = d.order_norm
    and (o.cvr is null or list_contains(d.cvrs, o.cvr))
group by all;

create table doc_flags as
select d.*, m.number is not null as own_match, coalesce(m.fakturamatch, false) as fakturamatch
from docs d left join matched m using (kommune, cvr, doc_type, number, issue_date);

create table ehandel_docs as
select f.*, f.own_match or (f.doc_type = 'credit_note' and exists (
        select 1 from doc_flags i where i.kommune = f.kommune and i.cvr = f.cvr and i.doc_type = 'invoice'
            and i.number = f.credited and i.own_match)) as ehandel
from doc_flags f;

create table participation as
select kommune, year from (select distinct kommune, year from classified)
intersect
select kommune, year(order_date) from orders;

create table national as
select d.year, count(distinct d.kommune) as municipalities,
    sum(goods_amount) as goods_spend, sum(case when ehandel then goods_amount else 0 end) as ehandel_spend,
    count(*) filter (where doc_type = 'invoice' and has_goods) as purchases,
    count(*) filter (where doc_type = 'invoice' and has_goods and ehandel) as ehandel_purchases,
    count(*) filter (where doc_type = 'invoice' and has_goods and ehandel and fakturamatch) as fakturamatch_purchases
from ehandel_docs d join participation p using (kommune, year)
group by d.year;

create table municipal_ehandel as
select d.kommune, d.year, sum(case when ehandel then goods_amount else 0 end) as ehandel_spend
from ehandel_docs d join participation p using (kommune, year) group by all;

create table categories as
select c.year, c.category, sum(c.amount) as ehandel_spend,
    count(distinct (c.kommune, c.cvr, c.number, c.issue_date)) filter (where c.doc_type = 'invoice') as ehandel_purchases
from classified c
join ehandel_docs d using (kommune, cvr, doc_type, number, issue_date)
join participation p on p.kommune = c.kommune and p.year = c.year
where c.goods and d.ehandel
group by all;

create table typical as
select year, kommune, arg_min(industry, (-spend, industry)) as industry from (
    select c.year, c.kommune, coalesce(left(s.branchekode, 2), 'Ukendt') as industry, sum(c.amount) as spend
    from classified c
    join ehandel_docs d using (kommune, cvr, doc_type, number, issue_date)
    join participation p on p.kommune = c.kommune and p.year = c.year
    left join suppliers s on s.cvr = c.cvr
    where c.goods and d.ehandel
    group by all
) group by all;
"""


def national_figures(data_dir: Path) -> dict[int, dict]:
    """The seed infographic's figures per year, computed from data_dir/raw by METHODS.md."""
    raw = Path(data_dir) / "raw"
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        with tempfile.TemporaryDirectory() as tmp:
            _load_csv(con, raw, "invoices", INVOICE_FIELDS, Path(tmp))
            _load_csv(con, raw, "orders", ORDER_FIELDS, Path(tmp))
            _load_xml(con, raw)
            _load_reference(con, raw)
            for statement in (_MACROS + _FIGURES).split(";\n"):
                if statement.strip():
                    con.execute(statement)
        out: dict[int, dict] = {}
        rows = con.execute("select * from national order by year").fetchall()
        for year, municipalities, goods, ehandel, purchases, eh_purchases, matches in rows:
            categories = con.execute(
                "select category, ehandel_spend, ehandel_purchases from categories where year = ?", [year]
            ).fetchall()
            largest = max(categories, key=lambda r: (r[1], r[0]))
            most_traded = max(categories, key=lambda r: (r[2], r[0]))
            industries = con.execute(
                "select industry, count(*) as n from typical where year = ? group by industry order by n desc, industry",
                [year],
            ).fetchall()
            previous = con.execute(
                "select sum(a.ehandel_spend), sum(b.ehandel_spend) from municipal_ehandel a "
                "join municipal_ehandel b on b.kommune = a.kommune and b.year = a.year - 1 where a.year = ?",
                [year],
            ).fetchone()
            growth = float(previous[0] / previous[1] - 1) if previous and previous[1] else None
            out[int(year)] = {
                "participating_municipalities": municipalities,
                "goods_spend_kr": float(goods),
                "ehandel_spend_kr": float(ehandel),
                "share_spend": float(ehandel / goods),
                "goods_purchases": purchases,
                "ehandel_purchases": eh_purchases,
                "share_purchases": eh_purchases / purchases,
                "growth_ehandel_spend": growth,
                "largest_category": largest[0],
                "largest_category_ehandel_spend_kr": float(largest[1]),
                "largest_category_ehandel_purchases": largest[2],
                "most_traded_category": most_traded[0],
                "most_traded_category_share": most_traded[2] / eh_purchases,
                "typical_industry_code": industries[0][0],
                "typical_industry_municipalities": industries[0][1],
                "wholesale_typical_municipalities": dict(industries).get("46", 0),
                "fakturamatch_rate": matches / eh_purchases,
            }
        return out
    finally:
        con.close()


if __name__ == "__main__":
    print(json.dumps(national_figures(Path(sys.argv[1])), indent=1, ensure_ascii=False))
