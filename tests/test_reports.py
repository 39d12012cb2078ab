"""The published site: Danish formats, every page, escaping, disclosure control, no network, sizes."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import jinja2
import plotly
import plotly.graph_objects as go
import polars as pl
import pytest

from reports import figures
from reports import formatting as fmt
from reports.render import ReportConfig, make_environment, render_site
from tests.report_fixtures import (
    MANIFEST,
    SMALL_CELL_CATEGORY,
    SMALL_CELL_INDUSTRY,
    SMALL_CELL_MUNICIPALITY,
    XSS,
    write_report_marts,
)

MAX_PAGE_BYTES = 150 * 1024


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("site")
    frames = write_report_marts(root / "marts")
    method = root / "metode.md"
    method.write_text("# Sådan opgøres tallene\n\nAndelen er *pooled*. <b>rå html</b>\n", encoding="utf-8")
    pages = render_site(root / "marts", root / "out", MANIFEST, ReportConfig(method_path=method))
    return root / "out", frames, pages


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _html_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


# ------------------------------------------------------------------------------------------------ formats
def test_danish_number_formats():
    assert fmt.percent(0.127) == "12,7%"
    assert fmt.percent(0.25) == "25,0%"
    assert fmt.integer(1196000) == "1.196.000"
    assert fmt.kr_short(2.4e9) == "2,4 mia. kr."
    assert fmt.kr_short(2_345_678_901.5) == "2,3 mia. kr."
    assert fmt.kr_short(3_250_000) == "3,3 mio. kr."
    assert fmt.kr(325) == "325 kr."
    assert fmt.kr(1234567.89) == "1.234.568 kr."
    assert fmt.signed_percent(0.046) == "+4,6%"
    assert fmt.points(-0.014) == "-1,4 pct.-point"
    assert fmt.percent(None) == fmt.DASH
    assert fmt.kr_short(float("nan")) == fmt.DASH


def test_kommunekode_must_be_four_digits():
    assert fmt.kommunekode("0159") == "0159"
    for bad in ("159", "../etc", "01591", "01a9", None):
        with pytest.raises(ValueError):
            fmt.kommunekode(bad)


# ------------------------------------------------------------------------------------------------ pages
def test_a_page_for_every_year_and_municipality(site):
    out, frames, pages = site
    assert (out / "index.html").exists() and (out / "metode.html").exists()
    for row in frames["kpi_municipality"].iter_rows(named=True):
        page = out / str(row["year"]) / f"{row['kommunekode']}.html"
        assert page.exists(), page
        assert page in pages
    for year in frames["kpi_national"]["year"]:
        assert (out / str(year) / "index.html").exists()


def test_national_page_reproduces_the_infographic(site):
    out, frames, _ = site
    kpi = {r["year"]: r for r in frames["kpi_national"].iter_rows(named=True)}
    html = _read(out / "2021" / "index.html")
    now, before = kpi[2021], kpi[2020]
    assert '<html lang="da">' in html
    assert "E-handel i tal 2021" in html
    for expected in (
        fmt.percent(now["growth_ehandel_spend"]),
        now["largest_category"],
        f"{fmt.kr_short(now['largest_category_ehandel_spend_kr'])}</strong> i forbrug",
        f"{fmt.integer(now['largest_category_ehandel_purchases'])}</strong> antal indkøb",
        now["most_traded_category"],
        f"{fmt.integer(now['typical_industry_municipalities'])}</strong> Kommuner (*)",
        fmt.percent(now["share_spend"]),
        fmt.percent(now["share_purchases"]),
        f"(*) Ud af {now['participating_municipalities']} deltagende kommuner / afgrænset til varekøb",
        # the previous year beside it
        f"<span>2020:</span> {fmt.percent(before['share_spend'])}",
        f"<span>2020:</span> {fmt.percent(before['share_purchases'])}",
    ):
        assert expected in html, expected
    for section in (
        "rang-forbrug",
        "rang-indkoeb",
        "udvikling",
        "kategorier",
        "brancher",
        "fakturamatch",
        "transaktionsomkostninger",
        "compliance",
        "daekning",
        "datakvalitet",
        "metode",
    ):
        assert f'id="{section}"' in html, section
    assert "Sådan opgøres tallene" in html  # the method page from docs/metode.md
    assert "&lt;b&gt;rå html&lt;/b&gt;" in html  # raw HTML in the markdown is not passed through
    assert "Beløb kan ikke læses som et tal" in html  # quarantine by reason


def test_municipal_page_against_peers(site):
    out, frames, _ = site
    row = (
        frames["kpi_municipality"]
        .filter((pl.col("year") == 2021) & (pl.col("kommunekode") == "0159"))
        .row(0, named=True)
    )
    html = _read(out / "2021" / "0159.html")
    assert "Gladsaxe Kommune" in html
    for expected in (
        fmt.percent(row["share_spend"]),
        fmt.percent(row["national_share_spend"]),
        fmt.percent(row["region_share_spend"]),
        fmt.percent(row["peer_share_spend"]),
        f"nr. {row['rank_share_spend']}",
        fmt.kr_short(row["potential_saving_kr"]),
    ):
        assert expected in html, expected
    assert 'href="../2020/0159.html"' in html and 'href="../2022/0159.html"' in html


def test_non_participating_municipality_says_ikke_opgjort(site):
    out, _, _ = site
    html = _read(out / "2021" / "0101.html")
    assert "ikke opgjort" in html
    assert "ingen ordrer" in html
    national = _read(out / "2021" / "index.html")
    assert "ikke opgjort" in national  # coverage table


def test_every_page_is_stamped(site):
    out, _, _ = site
    for page in _html_files(out):
        html = _read(page)
        for key in ("input_fingerprint", "code_version", "run_id", "generated_at"):
            assert MANIFEST[key] in html, (page, key)


# ------------------------------------------------------------------------------------------------ safety
def test_names_are_escaped_everywhere(site):
    out, _, _ = site
    for page in _html_files(out):
        assert XSS not in _read(page), page
    html = _read(out / "2021" / "0751.html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # inside the chart JSON, '<' never appears raw either
    assert "\\u003cscript" in html or "\\u0026lt;script" in html


def _appears(value: float, text: str) -> bool:
    """Whether an amount appears in a text, raw (12345.67) or formatted to the krone (12.346 kr.)."""
    raw = re.search(rf"(?<![\d.]){re.escape(str(value))}(?!\d)", text) is not None
    return raw or fmt.kr(value) in text


def test_small_cells_are_suppressed_in_pages_and_downloads(site):
    out, frames, _ = site
    code = SMALL_CELL_MUNICIPALITY
    cell = (
        frames["category_municipality"]
        .filter(
            (pl.col("year") == 2021)
            & (pl.col("kommunekode") == code)
            & (pl.col("category") == SMALL_CELL_CATEGORY)
        )
        .row(0, named=True)
    )
    industry = (
        frames["industry_municipality"]
        .filter(
            (pl.col("year") == 2021)
            & (pl.col("kommunekode") == code)
            & (pl.col("industry_code") == SMALL_CELL_INDUSTRY)
        )
        .row(0, named=True)
    )
    hidden = [
        cell["goods_spend_kr"],
        cell["ehandel_spend_kr"],
        industry["goods_spend_kr"],
        industry["ehandel_spend_kr"],
    ]

    page = _read(out / "2021" / f"{code}.html")
    chart_csv = _read(out / "2021" / "data" / f"{code}-kategorier.csv")
    mart_csv = _read(out / "data" / "category_municipality.csv")
    books = {}
    for name, path in (
        ("chart xlsx", out / "2021" / "data" / f"{code}.xlsx"),
        ("mart xlsx", out / "data" / "category_municipality.xlsx"),
    ):
        with zipfile.ZipFile(path) as book:
            books[name] = "".join(book.read(n).decode() for n in book.namelist() if n.endswith(".xml"))
    texts = {"page": page, "chart csv": chart_csv, "mart csv": mart_csv, **books}
    for value in hidden:
        for name, text in texts.items():
            assert not _appears(value, text), (name, value)

    # the row is there, shown as "–" with the footnote, in the page and in the chart's CSV
    row = re.search(rf"<tr><td class=\"text\">{SMALL_CELL_CATEGORY}</td>(.*?)</tr>", page).group(1)
    assert row.count('class="suppressed"') == 6  # four amounts/counts and two shares
    assert "færre end 3 leverandører" in page
    csv_row = next(line for line in chart_csv.splitlines() if line.startswith(SMALL_CELL_CATEGORY))
    assert csv_row.count(fmt.DASH) == 6
    assert "færre end 3 leverandører" in chart_csv
    assert fmt.DASH in books["mart xlsx"] and fmt.DASH in mart_csv

    published = pl.read_parquet(out / "data" / "category_municipality.parquet")
    small = published.filter((pl.col("kommunekode") == code) & (pl.col("category") == SMALL_CELL_CATEGORY))
    assert small["suppressed"].all() and small["goods_spend_kr"].is_null().all()
    for name in ("category_municipality", "industry_municipality"):  # every figure, the shares too
        published = pl.read_parquet(out / "data" / f"{name}.parquet").filter(pl.col("suppressed"))
        assert published.height > 0
        for column in (
            "goods_spend_kr",
            "ehandel_spend_kr",
            "goods_purchases",
            "ehandel_purchases",
            "share_spend",
            "share_purchases",
        ):
            assert published[column].is_null().all(), (name, column)  # fmt: skip
    published = pl.read_parquet(out / "data" / "category_municipality.parquet")
    assert "supplier_count" not in published.columns
    assert published.filter(~pl.col("suppressed"))["goods_spend_kr"].is_not_null().all()


def test_compliance_is_hidden_where_a_part_of_it_comes_from_fewer_than_3_suppliers(site):
    """METHODS 9: the agreement suppliers' part of a category's spend, or the rest of it, from 1-2 suppliers would
    give those suppliers' sales; the part and the share are shown as '–', the category's spend stays."""
    out, frames, _ = site
    code = SMALL_CELL_MUNICIPALITY
    mart = frames["compliance_municipality"].filter(
        (pl.col("year") == 2021) & (pl.col("kommunekode") == code)
    )
    hidden = mart.filter(pl.col("aftalenummer") == "50.10").row(0, named=True)
    shown = mart.filter(pl.col("aftalenummer") == "50.90").row(0, named=True)
    published = pl.read_parquet(out / "data" / "compliance_municipality.parquet").filter(
        (pl.col("year") == 2021) & (pl.col("kommunekode") == code)
    )
    assert not set(published.columns) & {"category_suppliers", "agreement_suppliers", "other_suppliers"}
    by_number = {r["aftalenummer"]: r for r in published.to_dicts()}
    assert by_number["50.10"]["suppressed"] and by_number["50.10"]["agreement_spend_kr"] is None
    assert by_number["50.10"]["compliance_share"] is None
    assert float(by_number["50.10"]["category_spend_kr"]) == pytest.approx(float(hidden["category_spend_kr"]))
    assert not by_number["50.90"]["suppressed"]
    assert float(by_number["50.90"]["agreement_spend_kr"]) == pytest.approx(
        float(shown["agreement_spend_kr"])
    )
    page = _read(out / "2021" / f"{code}.html")
    row = re.search(r"<tr><td class=\"text\">50\.10 [^<]*</td>(.*?)</tr>", page).group(1)
    assert row.count('class="suppressed"') == 2
    for text in (page, _read(out / "data" / "compliance_municipality.csv")):
        assert not _appears(hidden["agreement_spend_kr"], text)


def test_only_public_marts_are_published(site):
    out, _, _ = site
    names = {p.stem for p in (out / "data").iterdir()}
    assert {
        "kpi_national",
        "kpi_municipality",
        "category_municipality",
        "industry_municipality",
        "coverage",
        "compliance_national",
    } <= names
    assert not names & {"quarantine", "ingest_log", "checks"}
    for path in (out / "data").glob("*.parquet"):
        columns = set(pl.read_parquet(path).columns)
        assert not columns & {"raw_record", "description", "details", "supplier_count"}, path
    index = _read(out / "index.html")
    assert 'href="data/kpi_national.xlsx"' in index and 'href="data/kpi_municipality.parquet"' in index


def test_no_page_references_the_network_and_every_link_resolves(site):
    out, _, _ = site
    for path in out.rglob("*"):
        if path.suffix in (".html", ".css", ".csv") or path.name in ("charts.js", "filter.js"):
            text = _read(path)
            assert "http://" not in text and "https://" not in text, path
    for page in _html_files(out):
        html = _read(page)
        for target in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not target.startswith(("//", "data:", "javascript:")), (page, target)
            if target.startswith("#"):
                continue
            assert (page.parent / target.split("#")[0]).resolve().exists(), (page, target)
        assert html.count("plotly.min.js") <= 1
        assert "Plotly.newPlot" not in html  # one shared script draws the charts, nothing inlined


def test_page_sizes(site):
    out, _, _ = site
    for page in _html_files(out):
        assert page.stat().st_size <= MAX_PAGE_BYTES, (page, page.stat().st_size)


def test_figure_builders_pass_plotly_validation(monkeypatch):
    monkeypatch.setattr(figures, "VALIDATE", True)
    built = [
        figures.ranking(["A", XSS], [0.1, None], [True, False], "Andel"),
        figures.development(
            [figures.Series("A", [2020, 2021], [0.1, None], dashed=True)],
            "Andel",
            target=0.8,
            target_label="Mål",
        ),
        figures.grouped_shares(["x", "y"], [("A", [0.1, 0.2])], "Andel"),
        figures.amounts(["a", "b"], [("Forbrug", [2.4e9, None])], [False, True]),
        figures.channels(["a", "b"], [10, 20], [68, 99]),
        figures.target_bars(["a"], [0.5], 0.8, "Mål 80,0%"),
    ]
    for fig in built:
        payload = figures.to_payload(fig)
        assert "<" not in payload and ">" not in payload
        go.Figure(json.loads(payload))  # validates every property


def test_plotly_is_copied_and_always_overwritten(site, tmp_path):
    out, _, _ = site
    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert (out / "assets" / "plotly.min.js").read_bytes() == bundled.read_bytes()
    write_report_marts(tmp_path / "marts", years=(2021,))
    (tmp_path / "out" / "assets").mkdir(parents=True)
    (tmp_path / "out" / "assets" / "plotly.min.js").write_text("stale")
    render_site(tmp_path / "marts", tmp_path / "out", MANIFEST, ReportConfig(write_xlsx=False))
    assert (tmp_path / "out" / "assets" / "plotly.min.js").stat().st_size == bundled.stat().st_size


# ------------------------------------------------------------------------------------------------ robustness
def test_strict_undefined_fails_loudly():
    env = make_environment()
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("national.html.j2").render(manifest=MANIFEST, years_all=[2021], root="../")
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ kpi.nonexistent_column|percent }}").render(kpi={"share_spend": 0.1})


def test_autoescape_is_on():
    assert (
        make_environment().from_string("{{ name }}").render(name=XSS)
        == "&lt;script&gt;alert(1)&lt;/script&gt;"
    )


def test_incomplete_manifest_is_refused(tmp_path):
    write_report_marts(tmp_path / "marts", years=(2021,))
    manifest = {k: v for k, v in MANIFEST.items() if k != "run_id"}
    with pytest.raises(ValueError, match="run_id"):
        render_site(tmp_path / "marts", tmp_path / "out", manifest)


def test_missing_mart_column_names_the_file(tmp_path):
    write_report_marts(tmp_path / "marts", years=(2021,))
    path = tmp_path / "marts" / "kpi_national.parquet"
    pl.read_parquet(path).drop("share_spend").write_parquet(path)
    with pytest.raises(ValueError, match=r"kpi_national\.parquet.*share_spend"):
        render_site(tmp_path / "marts", tmp_path / "out", MANIFEST)


def test_bad_kommunekode_is_refused(tmp_path):
    write_report_marts(tmp_path / "marts", years=(2021,))
    path = tmp_path / "marts" / "kpi_municipality.parquet"
    frame = pl.read_parquet(path)
    frame.with_columns(
        pl.when(pl.col("kommunekode") == "0159")
        .then(pl.lit("../x"))
        .otherwise(pl.col("kommunekode"))
        .alias("kommunekode")
    ).write_parquet(path)
    with pytest.raises(ValueError, match="4 digits"):
        render_site(tmp_path / "marts", tmp_path / "out", MANIFEST)


def test_optional_marts_and_method_may_be_absent(tmp_path):
    write_report_marts(tmp_path / "marts", optional=False)
    config = ReportConfig(method_path=tmp_path / "absent.md", write_xlsx=False)
    pages = render_site(tmp_path / "marts", tmp_path / "out", MANIFEST, config)
    national = _read(tmp_path / "out" / "2022" / "index.html")
    assert "Der er ingen oplysninger om indlæsning og karantæne" in national
    assert 'id="compliance"' not in national
    assert "Metodebeskrivelsen er endnu ikke tilgængelig" in national
    assert all(p.exists() for p in pages)


def test_industry_names_as_on_the_infographic():
    from reports import formatting

    assert formatting.industry("Engroshandel undtagen med motorkøretøjer og motorcykler") == "Engroshandel"
    assert formatting.industry("Ukendt branche") == "Ukendt branche"
    assert formatting.industry(None) == "–"
