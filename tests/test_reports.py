"""The published site: Danish formats, every page, escaping, disclosure control, no network, sizes."""

from __future__ import annotations

import html as html_lib
import json
import re
import zipfile
from pathlib import Path

import jinja2
import plotly
import plotly.graph_objects as go
import polars as pl
import pytest
from markupsafe import Markup

from assets import loading
from reports import figures, render
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


def test_headings_move_down_a_level_or_more():
    html = Markup('<h1>A</h1>\n<h2 id="x">B</h2><h5>C</h5><h6>D</h6><p>h1</p>')
    assert fmt.headings(html, 2) == '<h3>A</h3>\n<h4 id="x">B</h4><h6>C</h6><h6>D</h6><p>h1</p>'
    assert fmt.headings(html, 0) == html
    assert fmt.headings("<h1>rå</h1>", 1) == "&lt;h1&gt;rå&lt;/h1&gt;"  # text that is not markup is escaped


def test_method_page_has_one_h1(site):
    out, _, _ = site
    html = _read(out / "metode.html")
    assert html.count("<h1") == 1 and "<h2>Sådan opgøres tallene</h2>" in html


def test_growth_is_signed_on_the_index(site):
    out, frames, _ = site
    html = _read(out / "index.html")
    for growth in frames["kpi_national"]["growth_ehandel_spend"].drop_nulls():
        assert f'<td class="pct">{fmt.signed_percent(growth)}</td>' in html


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
        f'<p class="tile-value">{fmt.signed_percent(now["growth_ehandel_spend"])}</p>',  # signed, as per kommune
        f"<span>2020:</span> {fmt.signed_percent(before['growth_ehandel_spend'])}",
        now["largest_category"],
        f"{fmt.kr_short(now['largest_category_ehandel_spend_kr'])}</strong> i forbrug",
        f"{fmt.integer(now['largest_category_ehandel_purchases'])}</strong> antal indkøb",
        now["most_traded_category"],
        f"{fmt.integer(now['typical_industry_municipalities'])}</strong> kommuner (*)",
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
    # one h1 a page; the method's headings under the page's h2 "Metode" (h1 -> h3), below the chart sections
    assert html.count("<h1") == 1
    method = html[html.index('id="metode"') :]
    assert "<h3>Sådan opgøres tallene</h3>" in method and "<h1" not in method
    assert "&lt;b&gt;rå html&lt;/b&gt;" in html  # raw HTML in the markdown is not passed through
    # quarantine by reason, grouped in Danish (the English reasons are in quarantine.parquet, for analysts)
    for group in (
        "Beløb kan ikke læses som et tal",
        "Beløb kan ikke læses som et tal + Linjenummer mangler",
        "XML-filen er afbrudt eller ugyldig",
    ):
        assert f"<td>{group}</td>" in html, group
    assert "is not an amount" not in html
    # a file check of both kinds of file says which it is
    assert (
        "CVR-nummeret har 8 cifre (fakturafiler)" in html and "CVR-nummeret har 8 cifre (ordrefiler)" in html
    )
    # the cost per purchase of the three channels of METHODS 7, no other, each amount ending once in "kr."
    note = re.search(r"Anslåede omkostninger pr\. indkøb: [^<]*", html).group(0)
    assert (
        note
        == "Anslåede omkostninger pr. indkøb: fakturamatch 68 kr., e-handel 99 kr., mail, telefon og web 130 kr."
    )


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
    # which municipalities "of the same size" are: counted from the fixture's quintiles
    kpi = frames["kpi_municipality"].filter((pl.col("year") == 2021) & pl.col("participating"))
    peers = kpi.filter(pl.col("size_quintile") == row["size_quintile"]).height
    assert (
        f"Kommuner af samme størrelse er de {peers} deltagende kommuner i samme femtedel efter varekøb (kr.) som "
        f"kommunen: femtedel {row['size_quintile']} af 5"
    ) in html


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
    """Whether an amount appears in a text, raw (12345.67 or, in a chart's Danish CSV, 12345,67) or formatted to the
    krone (12.346 kr.)."""
    raw = any(
        re.search(rf"(?<![\d.,]){re.escape(written)}(?!\d)", text) is not None
        for written in (str(value), str(value).replace(".", ","))
    )
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
    for section in ("kategorier", "brancher"):  # the footnote once a chart, not again inside its table
        start = page.index(f'<section class="panel" id="{section}"')
        html = page[start : page.index("</section>", start)]
        assert html.count('<p class="footnote">– Tallet vises ikke') == 1, section
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
        figures.ranking([f"Kommune {i}" for i in range(93)], [i / 100 for i in range(93)], [False] * 93, "A"),
        figures.target_bars([f"K {i}" for i in range(93)], [i / 100 for i in range(93)], 0.8, "Mål 80,0%"),
        figures.amounts(
            ["Engroshandel undtagen med motorkøretøjer og motorcykler", XSS],
            [("Forbrug", [2.4e6, None]), ("Heraf e-handel", [1.2e6, None])],
            [False, True],
        ),
    ]
    for fig in built:
        payload = figures.to_payload(fig)
        assert "<" not in payload and ">" not in payload
        spec = json.loads(payload)
        assert set(spec) <= {"data", "layout", "narrow", "print"} and "meta" not in spec["layout"]
        go.Figure({"data": spec["data"], "layout": spec["layout"]})  # validates every property
        # ... and so does every variant, laid over the figure as charts.js lays it
        for variants in (["narrow"], ["print"], ["narrow", "print"]):
            data, layout = spec["data"], spec["layout"]
            for name in variants:
                variant = spec.get(name) or {}
                over = variant.get("data", [])
                data = [{**t, **(over[i] if i < len(over) else {})} for i, t in enumerate(data)]
                layout = {**layout, **variant.get("layout", {})}
            go.Figure({"data": data, "layout": layout})


def test_figures_have_a_narrow_variant_for_a_phone():
    long = "Engroshandel undtagen med motorkøretøjer og motorcykler"
    # names above the bars, across the chart, instead of a margin that leaves the bars no room
    spec = json.loads(figures.to_payload(figures.amounts([long, "IT"], [("Forbrug", [2e6, 1e6])])))
    narrow = spec["narrow"]
    assert narrow["layout"]["yaxis"]["showticklabels"] is False
    assert [a["text"] for a in narrow["layout"]["annotations"]] == [
        "Engroshandel undtagen med motorkøretøjer og<br>motorcykler",
        "IT",
    ]
    assert narrow["below"] >= 560
    # the comparison lies down, so its value labels keep their size
    spec = json.loads(
        figures.to_payload(figures.grouped_shares(["x"], [("A", [0.1]), ("B", [0.2])], "Andel"))
    )
    assert all(t["orientation"] == "h" for t in spec["narrow"]["data"])
    # long names and axis titles are wrapped
    spec = json.loads(
        figures.to_payload(
            figures.ranking([long], [0.1], [False], "Andel af forbruget hos aftalens leverandører")
        )
    )
    assert spec["narrow"]["layout"]["yaxis"]["ticktext"] == [
        "Engroshandel undtagen<br>med motorkøretøjer og<br>motorcykler"
    ]
    assert "<br>" in spec["narrow"]["layout"]["xaxis"]["title"]["text"]
    spec = json.loads(figures.to_payload(figures.channels(["E-handel med fakturamatch"], [10], [68])))
    assert spec["narrow"]["layout"]["xaxis"]["tickangle"] == 0


def test_a_long_bar_chart_fits_a_printed_page():
    names = [f"Kommune {i}" for i in range(93)]
    spec = json.loads(figures.to_payload(figures.ranking(names, [0.1] * 93, [False] * 93, "Andel")))
    assert spec["layout"]["height"] > 1000  # on screen: 20 px a bar
    printed = spec["print"]["layout"]
    assert printed["height"] <= figures.PRINT_HEIGHT and printed["yaxis"]["dtick"] == 1  # every name
    assert 6 <= printed["yaxis"]["tickfont"]["size"] <= 9
    short = json.loads(figures.to_payload(figures.ranking(names[:5], [0.1] * 5, [False] * 5, "Andel")))
    assert "print" not in short


def _contrast(colour: str, background: str = "#ffffff") -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(colour), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_target_is_named_above_the_bars_in_readable_colours():
    fig = figures.target_bars([f"K {i}" for i in range(93)], [0.803] + [0.7] * 92, 0.8, "Mål 80,0%")
    spec = json.loads(figures.to_payload(fig))
    key = spec["data"][1]
    assert key["name"] == "Mål 80,0%" and key["showlegend"] is True  # in the legend above the chart
    legend = spec["layout"]["legend"]
    assert legend["yref"] == "container" and legend["y"] == 1 and legend["yanchor"] == "top"
    assert not spec["layout"].get("annotations")  # no label at the far end of a 93-bar line
    assert spec["layout"]["shapes"][0]["layer"] == "between"  # over the grid, under the bars and labels
    # a value short of the target inside its bar's end, one past it beyond: the line crosses no label
    assert spec["data"][0]["textposition"][:2] == ["outside", "inside"]
    for colour in (*figures.TEXT_COLOURS.values(), legend["font"]["color"]):
        assert _contrast(colour) >= 4.5 and _contrast(colour, "#f4f6f8") >= 4.5, colour
    css = (Path(figures.__file__).parent / "static" / "style.css").read_text(encoding="utf-8")
    assert f"--good-text: {figures.TEXT_COLOURS['green']}" in css
    assert f"--bad-text: {figures.TEXT_COLOURS['vermillion']}" in css
    assert "td.ok { color: var(--good-text)" in css and "td.fail { color: var(--bad-text)" in css
    note = figures.development([figures.Series("A", [2021], [0.5])], "Andel", 0.8, "Mål")
    assert note.layout.annotations[0].font.color == figures.TEXT_COLOURS["vermillion"]


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


@pytest.mark.parametrize(
    "reason",
    [
        *loading.STRUCTURAL_REASONS.values(),
        "a quoted value opens on this line and never closes: the next 2 line(s) were read into it as one record",
        "the line cannot be read as CSV (SOMETHING NEW)",
        "the file cannot be split into lines: it mixes line endings (CRLF and LF) or has a carriage return (CR) "
        "inside an unquoted value. Save it again with one kind of line ending",
        "the file cannot be read as CSV: Invalid Input Error",
        "line 3 is longer than 2 MB: not a line of a CSV extract (a missing line break or a binary file?)",
        "the file holds binary data (NUL bytes), not text: not a CSV extract",
        "the first line has no ';', ',' or tab between column names: not a CSV extract",
        "the file is empty",
        "unknown layout: the header has no column for beloeb (read: Faktura; Dato; Moms)",
        "unknown layout: the columns 'Beløb', 'Beløb inkl. moms' are all read as beloeb: deliver one of them",
        "the delivery folder 'abc' is not a municipality code (reference/kommuner.csv): move the file",
        "the file is not in a municipality folder: move it to raw/invoices/<kommunekode>/",
        "only .xml files are read in raw/ubl/ (e-documents as received): not an e-document",
        "kept out by the data-quality check file_amounts_plausible: 1 rows",
        "the file declares a DTD/entities, which e-invoices never do; refused for safety",
        "not an XML document: the file is a PDF",
        "the XML is truncated or malformed at line 4: the file ends before the document does (x)",
        "the document has no CustomizationID, so it is neither OIOUBL nor Peppol BIS",
        "not an invoice, credit note or order (root element: Catalogue)",
        "the supplier party names no Danish CVR (Peppol document); cannot attribute it to a supplier",
        "kommunekode 0101 in the row disagrees with the delivery folder 0461",
        "kommunekode '1x9' is not a 3-4 digit municipality code",
        "missing fakturanummer (the document number)",
        "the invoice has no number (cbc:ID)",
        "dokumenttype 'Rykker' is neither Faktura nor Kreditnota",
        "fakturadato '31-02-2021' is not a date (e.g. 2021-03-31 or 31-03-2021)",
        "ordredato '1999-12-31' is before 2000-01-01: not a date of this statistic",
        "fakturadato '2999-01-01' is after '2026-11-28', the day the file was loaded: a date in the future cannot be a purchase",
        "leverandoer_cvr '1234' is not an 8-digit CVR number",
        "missing linjenummer (the line number)",
        "missing ordrelinje (the order line number)",
        "ordrenummer 'x' is not an order number",
        "ordretype 'telefon' is not katalog, punchout, fritekst or e-ordre",
        "beloeb 'abc' is not an amount (e.g. 1.234,56)",
        "beloeb '2000000000,00' is over 1 mia. kr. for one line: a misread amount?",
        "currency EUR: no exchange rate to DKK is known, so the amount cannot be counted",
    ],
)  # fmt: skip
def test_every_quarantine_reason_has_a_danish_group_on_the_pages(reason):
    assert render.reason_group_da(reason) != render.OTHER_REASON_DA, reason


def test_a_charts_csv_opens_in_danish_excel(site):
    """Semicolons, decimal comma, UTF-8 with a byte-order mark: the figures of the fixture's Fødevarer cell."""
    out, frames, _ = site
    code = SMALL_CELL_MUNICIPALITY
    raw = (out / "2021" / "data" / f"{code}-kategorier.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].split(";")[:3] == ["Kategori", "Forbrug, varekøb", "Heraf e-handel"]
    cell = (
        frames["category_municipality"]
        .filter(
            (pl.col("year") == 2021) & (pl.col("kommunekode") == code) & (pl.col("category") == "Fødevarer")
        )
        .row(0, named=True)
    )
    assert (cell["goods_spend_kr"], cell["ehandel_spend_kr"]) == (26817184.08, 3102926.72)
    # share 3,102,926.72 / 26,817,184.08 and purchases 8,215 / 23,997, as the fixture holds them
    assert next(line for line in lines if line.startswith("Fødevarer;")) == (
        "Fødevarer;26817184,08;3102926,72;0,11570665699811986;23997;8215;0,3423344584739759"
    )
    # the marts' CSVs are for programs: commas, decimal points, no byte-order mark
    assert (out / "data" / "category_municipality.csv").read_bytes().startswith(b"year,")


def _first_cells(page: str, section: str) -> list[str]:
    """The first cell of each row of a chart's table, in page order."""
    start = page.index(f'<section class="panel" id="{section}"')
    html = page[start : page.index("</section>", start)]
    return [html_lib.unescape(cell) for cell in re.findall(r'<tr><td class="text">(.*?)</td>', html)]


def test_national_and_municipal_pages_list_categories_in_one_order(site):
    """Largest e-handel spend first on both pages (the seed's largest category); a suppressed cell last."""
    out, frames, _ = site
    national = (
        frames["category_national"].filter(pl.col("year") == 2021).sort("ehandel_spend_kr", descending=True)
    )
    assert _first_cells(_read(out / "2021" / "index.html"), "kategorier") == national["category"].to_list()
    # the fixture's 0159: Kontorartikler has the largest goods spend (35.8 mio.) but Fødevarer the largest
    # e-handel (4.02 mio. against 3.45); Rengøring (1.49 mio.) before IT (1.19 mio.)
    assert _first_cells(_read(out / "2021" / "0159.html"), "kategorier") == [
        "Fødevarer", "Kontorartikler og papir", "Rengøring og hygiejne", "IT og telefoni",
    ]  # fmt: skip
    assert _first_cells(_read(out / "2021" / f"{SMALL_CELL_MUNICIPALITY}.html"), "kategorier")[-1] == (
        SMALL_CELL_CATEGORY
    )


# ------------------------------------------------------------------------------------------------ revisions
def _visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html)))


def test_a_growth_figure_hidden_by_a_held_back_year_says_so():
    row = {"held_back_year": 2021, "new_value": None, "input_changed": True, "code_changed": False}
    assert render._revision_cause(row) == "de nye tal for 2021 er tilbageholdt, så væksten vises ikke"
    row |= {"new_value": 0.12}
    assert (
        render._revision_cause(row)
        == "de tilbageholdte tal for 2021 er offentliggjort, så væksten vises igen"
    )
    row |= {"held_back_year": None}
    assert render._revision_cause(row) == "nye, rettede eller tilbagetrukne leverancer"


def test_revised_figures_are_shown_before_and_now(site):
    """The fixture's last year was revised once: Gladsaxe's e-handel spend by +120.000 kr., and so the nation's;
    Gladsaxe's share of purchases by 0,00001 percentage points, which one decimal cannot show."""
    out, frames, _ = site
    last = max(frames["kpi_national"]["year"])
    nation = frames["kpi_national"].filter(pl.col("year") == last).row(0, named=True)
    gladsaxe = (
        frames["kpi_municipality"]
        .filter((pl.col("year") == last) & (pl.col("kommunekode") == "0159"))
        .row(0, named=True)
    )
    before_share = (nation["ehandel_spend_kr"] - 120_000) / nation["goods_spend_kr"]
    national = _visible_text(_read(out / str(last) / "index.html"))
    assert "Revideret den 1. marts 2024" in national and "Revideret den 1. marts 2024 kl. 12.00" in national
    assert (
        f"Forbrug, e-handel {fmt.kr(nation['ehandel_spend_kr'] - 120_000)} {fmt.kr(nation['ehandel_spend_kr'])}"
        in national
    )
    assert (
        f"E-handel, andel af forbrug (kr.) {fmt.percent(before_share)} {fmt.percent(nation['share_spend'])}"
        in (national)
    )
    assert "Årsag: nye, rettede eller tilbagetrukne leverancer." in national
    assert "Kommuner med ændrede tal: Gladsaxe ." in national
    municipal = _visible_text(_read(out / str(last) / "0159.html"))
    assert (
        f"Forbrug, e-handel {fmt.kr(gladsaxe['ehandel_spend_kr'] - 120_000)} "
        f"{fmt.kr(gladsaxe['ehandel_spend_kr'])}" in municipal
    )
    assert "andel af antal indkøb" not in municipal.split("Revisioner")[1]  # too small to show
    # nothing else was revised
    for page in [out / str(last - 1) / "index.html", out / str(last) / "0440.html"]:
        assert 'id="revisioner"' not in _read(page) and 'class="revised"' not in _read(page)
    index = _visible_text(_read(out / "index.html"))
    assert f"E-handel i tal {last} Revideret den 1. marts 2024" in index
    assert f"E-handel i tal {last - 1} Revideret" not in index
    revisions = pl.read_csv(out / "data" / "revisions.csv")
    assert revisions.height == 4 and set(revisions["measure"]) == {
        "ehandel_spend_kr",
        "share_spend",
        "share_purchases",
    }
