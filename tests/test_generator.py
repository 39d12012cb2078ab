"""The synthetic national data set: determinism, layout, dialects, XML, and the calibration bands."""

import csv
import hashlib
import io
import re
from pathlib import Path

import pytest
from lxml import etree

import synthetic
from assets.readers.layouts import map_header
from synthetic.calibration import national_figures
from synthetic.world import INVOICES_ONLY, NOTHING, read_reference

SMALL = 0.002  # ~22,000 invoices a year: every municipality and dialect, in seconds


def fingerprint(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("small")
    synthetic.generate(data_dir, scale=SMALL, years=[2020, 2021], seed=7)
    return data_dir / "raw"


def decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252"), "cp1252"


def read_csv_file(path: Path) -> tuple[list[list[str]], str, str]:
    text, encoding = decode(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), delimiter, encoding


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    runs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        synthetic.generate(
            tmp_path / name, scale=SMALL, years=[2021], seed=seed, workers=1 if name == "a" else 2
        )
        runs[name] = fingerprint(tmp_path / name / "raw")
    assert runs["a"] == runs["b"]  # also: the number of worker processes does not matter
    assert runs["a"] != runs["c"]


def test_layout_98_93_5(small):
    codes = [r["kommunekode"] for r in read_reference("kommuner")]
    assert len(codes) == 98
    invoices = {p.name for p in (small / "invoices").iterdir()}
    orders = {p.name for p in (small / "orders").iterdir()}
    assert invoices == set(codes) - set(NOTHING)
    assert orders == set(codes) - set(NOTHING) - set(INVOICES_ONLY)
    assert len(orders) == 93 and {"0159", "0440", "0860", "0101"} <= orders
    for code in orders:  # both kinds every year
        for year in ("2020", "2021"):
            assert any(year in p.name for p in (small / "invoices" / code).glob("*.csv")), (code, year)
            assert any(year in p.name for p in (small / "orders" / code).glob("*.csv")), (code, year)
    assert (
        (small / "reference" / "leverandoerer.csv")
        .read_text(encoding="utf-8")
        .startswith("cvr;navn;branchekode")
    )
    assert (
        (small / "reference" / "aftaler.csv")
        .read_text(encoding="utf-8")
        .startswith("aftalenummer;navn;indkoebskategori;leverandoer_cvr;gyldig_fra;gyldig_til")
    )
    assert any((small / "ubl").rglob("*.xml"))


def test_register_has_db07_codes_and_misses_a_few_cvrs(small):
    rows = list(
        csv.DictReader((small / "reference" / "leverandoerer.csv").open(encoding="utf-8"), delimiter=";")
    )
    assert all(re.fullmatch(r"\d{8}", r["cvr"]) and re.fullmatch(r"\d{6}", r["branchekode"]) for r in rows)
    assert sum(r["branchekode"].startswith("46") for r in rows) > 100
    aftaler = (small / "reference" / "aftaler.csv").read_text(encoding="utf-8")
    assert "50.90;Fødevarer;Fødevarer;" in aftaler


def test_every_dialect_is_used_and_every_header_maps(small):
    delimiters, encodings, decimals, dates, headers, cvrs, types, codes = (
        set(),
        set(),
        set(),
        set(),
        set(),
        set(),
        set(),
        set(),
    )
    layouts, negative_credit, positive_credit = set(), False, False
    for kind in ("invoices", "orders"):
        for path in sorted((small / kind).glob("*/*.csv")):
            rows, delimiter, encoding = read_csv_file(path)
            delimiters.add(delimiter)
            encodings.add(encoding)
            header = rows[0]
            layout, mapping = map_header(kind, header)
            assert len(mapping) == len(header), (path, header)  # every cell is recognised
            layouts.add(layout)
            headers.update(header)
            column = {c: i for i, c in mapping.items()}
            for row in rows[1:200]:
                amount = row[column["beloeb"]]
                if amount == "abc":
                    continue
                decimals.add("thousands" if re.fullmatch(r"-?\d{1,3}(\.\d{3})+,\d\d", amount) else
                             "comma" if "," in amount else "dot")  # fmt: skip
                date = row[column["fakturadato" if kind == "invoices" else "ordredato"]]
                dates.add(re.sub(r"\d", "9", date))
                cvrs.add(re.sub(r"\d", "9", row[column["leverandoer_cvr"]]))
                if "kommunekode" in column:
                    codes.add(len(row[column["kommunekode"]]))
                if kind == "invoices":
                    types.add(row[column["dokumenttype"]])
                    if row[column["dokumenttype"]].lower() in ("kreditnota", "creditnote", "381"):
                        negative_credit |= amount.startswith("-")
                        positive_credit |= not amount.startswith("-")
    assert delimiters == {";", ",", "\t"}
    assert encodings == {"utf-8", "utf-8-sig", "cp1252"}
    assert decimals == {"thousands", "comma", "dot"}
    assert {"9999-99-99", "99-99-9999", "99.99.9999", "99/99/9999"} <= dates
    assert {"99999999", "DK99999999", "DK 99999999", "99 99 99 99"} <= cvrs
    assert {3, 4} <= codes
    assert {"Leverandør CVR", "leverandoer_cvr", "LEVERANDØR_CVR"} <= headers
    assert {"opus_oekonomi", "prisme_finans", "opus_indkoeb", "rakat", "canonical"} <= layouts
    assert {"Kreditnota", "KREDITNOTA", "kreditnota", "CreditNote", "381"} & types
    assert len({t.lower() for t in types}) >= 4
    assert negative_credit and positive_credit


def test_windows_1252_files_carry_danish_letters_and_an_en_dash(small):
    texts = [decode(p.read_bytes()) for p in (small / "invoices").glob("*/*.csv")]
    cp1252 = [t for t, encoding in texts if encoding == "cp1252"]
    assert cp1252 and any("–" in t and "ø" in t for t in cp1252)


def test_xml_documents_are_well_formed_oioubl_and_peppol(small):
    roots, formats = set(), set()
    paths = sorted((small / "ubl").rglob("*.xml"))
    assert paths
    for path in paths:
        root = etree.parse(str(path)).getroot()
        name = etree.QName(root)
        roots.add(name.localname)
        assert name.namespace == f"urn:oasis:names:specification:ubl:schema:xsd:{name.localname}-2"
        custom = root.findtext(
            "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}CustomizationID"
        )
        formats.add("OIOUBL" if custom == "OIOUBL-2.1" else "PEPPOL" if "peppol" in custom else custom)
        if name.localname != "Order":
            party = root.find(".//{*}AccountingSupplierParty/{*}Party/{*}EndpointID")
            assert party is not None and party.get("schemeID") in ("DK:CVR", "0184")
            assert root.findall(".//{*}LineExtensionAmount")
    assert roots == {"Invoice", "CreditNote", "Order"}
    assert formats == {"OIOUBL", "PEPPOL"}


def test_existing_foreign_raw_folder_is_not_overwritten(tmp_path):
    (tmp_path / "raw" / "invoices").mkdir(parents=True)
    (tmp_path / "raw" / "invoices" / "real.csv").write_text("x", encoding="utf-8")
    with pytest.raises(FileExistsError):
        synthetic.generate(tmp_path, scale=SMALL, years=[2021])


@pytest.mark.slow
def test_calibration_bands_at_demo_scale(tmp_path):
    synthetic.generate(tmp_path, scale=0.02, years=[2019, 2020, 2021], seed=2021)
    figures = national_figures(tmp_path)
    seed = {2020: (0.113, 0.205, 0.25), 2021: (0.127, 0.223, 0.046)}
    for year, (share_spend, share_purchases, growth) in seed.items():
        f = figures[year]
        assert f["participating_municipalities"] == 93
        assert abs(f["share_spend"] - share_spend) < 0.01, f
        assert abs(f["share_purchases"] - share_purchases) < 0.01, f
        assert abs(f["growth_ehandel_spend"] - growth) < 0.02, f
        assert f["largest_category"] == "Fødevarer" and f["most_traded_category"] == "Fødevarer"
        assert 80 <= f["wholesale_typical_municipalities"] <= 88 and f["typical_industry_code"] == "46"
        assert 0.60 <= f["fakturamatch_rate"] <= 0.70
    assert abs(figures[2020]["largest_category_ehandel_spend_kr"] / 0.02 - 2.3e9) < 0.1e9
    assert abs(figures[2021]["largest_category_ehandel_purchases"] / 0.02 - 1_196_000) < 20_000
    # The pipeline computes the same figures from the same files as the independent reference computation.
    import duckdb
    from dagster import DagsterInstance

    from pipelines.definitions import build_definitions

    job = build_definitions(str(tmp_path)).resolve_job_def("refresh_warehouse")
    with DagsterInstance.ephemeral() as instance:
        assert job.execute_in_process(instance=instance).success
    with duckdb.connect() as con:
        published = {
            row[0]: row[1:]
            for row in con.execute(
                "select year, participating_municipalities, share_spend, share_purchases, growth_ehandel_spend, "
                "largest_category, most_traded_category, typical_industry_code, typical_industry_municipalities "
                "from read_parquet(?)",
                [str(tmp_path / "marts/kpi_national.parquet")],
            ).fetchall()
        }
        gladsaxe = [
            row[0]
            for row in con.execute(
                "select share_spend from read_parquet(?) where kommunekode = '0159' order by year",
                [str(tmp_path / "marts/kpi_municipality.parquet")],
            ).fetchall()
        ]
    for year in (2020, 2021):
        f = figures[year]
        (
            participating,
            share_spend,
            share_purchases,
            growth,
            largest,
            most_traded,
            industry,
            industry_count,
        ) = published[year]
        assert participating == f["participating_municipalities"] == 93
        assert share_spend == pytest.approx(f["share_spend"], abs=1e-9)
        assert share_purchases == pytest.approx(f["share_purchases"], abs=1e-9)
        assert growth == pytest.approx(f["growth_ehandel_spend"], abs=1e-9)
        assert (largest, most_traded, industry) == ("Fødevarer", "Fødevarer", "46")
        assert industry_count == f["typical_industry_municipalities"]
    assert gladsaxe == sorted(gladsaxe) and len(gladsaxe) == 3  # Gladsaxe's share rises
