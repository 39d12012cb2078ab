"""The rendered reports opened from disk in Debian's chromium: charts drawn, no console errors, screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from pipelines.settings import PROJECT_ROOT
from reports import formatting as fmt
from reports.render import render_site
from tests.report_fixtures import MANIFEST, SMALL_CELL_MUNICIPALITY, XSS, write_report_marts

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    # CI sets EHANDEL_REQUIRE_BROWSER: there a missing browser fails the tests instead of skipping them.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("EHANDEL_REQUIRE_BROWSER"),
        reason="/usr/bin/chromium is missing: apt-get install chromium",
    ),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("browser_site")
    frames = write_report_marts(root / "marts")
    render_site(root / "marts", root / "out", MANIFEST)
    return root / "out", frames


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def _open(browser, path: Path, screenshot: str):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script("window.__alerts = 0; window.alert = function () { window.__alerts += 1; };")
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    charts = page.locator(".chart")
    for i in range(charts.count()):
        charts.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=10_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    assert all(url.startswith("file://") for url in requests), [
        u for u in requests if not u.startswith("file://")
    ]
    return page, errors


def _all_charts_drawn(page) -> None:
    charts = page.locator(".chart")
    assert charts.count() > 0
    for i in range(charts.count()):
        assert charts.nth(i).locator(".main-svg").count() > 0, charts.nth(i).get_attribute("id")


def test_national_page_in_chromium(site, browser):
    out, frames = site
    page, errors = _open(browser, out / "2021" / "index.html", "national-2021.png")
    assert errors == []
    _all_charts_drawn(page)
    kpi = frames["kpi_national"].filter(pl.col("year") == 2021).row(0, named=True)
    text = page.locator(".infographic").inner_text()
    for expected in (
        fmt.percent(kpi["share_spend"]),
        fmt.percent(kpi["share_purchases"]),
        fmt.kr_short(kpi["largest_category_ehandel_spend_kr"]),
        fmt.integer(kpi["largest_category_ehandel_purchases"]),
        kpi["typical_industry_name"],
        f"Ud af {kpi['participating_municipalities']} deltagende kommuner",
    ):
        assert expected in text, expected
    # the ranking shows the hostile name as text, and nothing ran
    assert XSS in page.locator("#rang-forbrug").inner_text()
    assert page.evaluate("window.__alerts") == 0
    page.close()


def test_municipal_page_in_chromium(site, browser):
    out, frames = site
    page, errors = _open(browser, out / "2021" / "0440.html", "kommune-0440-2021.png")
    assert errors == []
    _all_charts_drawn(page)
    row = (
        frames["kpi_municipality"]
        .filter((pl.col("year") == 2021) & (pl.col("kommunekode") == "0440"))
        .row(0, named=True)
    )
    text = page.locator(".infographic").inner_text()
    assert fmt.percent(row["share_spend"]) in text and fmt.percent(row["share_purchases"]) in text
    assert "færre end 3 leverandører" in page.locator("#kategorier").inner_text()
    page.close()
    page, errors = _open(browser, out / "2021" / "0751.html", "kommune-0751-2021.png")
    assert errors == []
    assert XSS in page.locator("h1").inner_text()
    page.close()


def test_index_filter_and_non_participating_page(site, browser):
    out, _ = site
    page, errors = _open(browser, out / "index.html", "index.png")
    assert errors == []
    page.fill("#filter", "kerteminde")
    visible = page.locator("#kommuner tbody tr:visible")
    assert visible.count() == 1 and "Kerteminde" in visible.first.inner_text()
    page.fill("#filter", "0159")
    assert page.locator("#kommuner tbody tr:visible").count() == 1
    page.close()
    page, errors = _open(browser, out / "2021" / "0101.html", "kommune-0101-2021-ikke-opgjort.png")
    assert errors == [] and "Ikke opgjort" in page.inner_text("main")
    page.close()


def test_print_layout(site, browser):
    out, _ = site
    page = browser.new_page()
    page.goto((out / "2021" / "index.html").as_uri())
    page.emulate_media(media="print")
    assert page.locator(".masthead nav").is_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(format="A4")
    (ARTIFACTS / "national-2021.pdf").write_bytes(pdf)
    assert pdf[:4] == b"%PDF"
    page.close()


# ------------------------------------------------------------------------------------------------ layout
PHONE = {"width": 390, "height": 900}
# Per chart: text drawn outside the chart's box, the plot area, the size of the bar labels.
CHART_METRICS = """() => [...document.querySelectorAll('.chart')].map(div => {
  const box = div.getBoundingClientRect();
  const outside = [...div.querySelectorAll(
      '.xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .annotation-text, .bartext, .legendtext')]
    .filter(t => { const r = t.getBoundingClientRect(); return r.width > 0 && (r.left < box.left - 1
      || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1); })
    .map(t => t.textContent);
  const plot = div.querySelector('.nsewdrag').getBoundingClientRect();
  const sizes = [...div.querySelectorAll('.bartext')].map(t => parseFloat(getComputedStyle(t).fontSize));
  return {id: div.id, outside, plotWidth: plot.width, height: box.height,
          yticks: div.querySelectorAll('.ytick text').length,
          annotations: div.querySelectorAll('.annotation-text').length,
          smallestLabel: sizes.length ? Math.min(...sizes) : null};
})"""
OVERFLOWING_HEADINGS = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5')]
  .filter(h => h.scrollWidth > h.clientWidth + 1).map(h => h.textContent)"""


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory):
    """All 98 municipalities (93 participating a year): the 93-bar charts of the published reports."""
    from reports.render import ReportConfig

    root = tmp_path_factory.mktemp("browser_big_site")
    frames = write_report_marts(root / "marts", years=(2021, 2022), municipalities="all")
    render_site(root / "marts", root / "out", MANIFEST, ReportConfig(write_xlsx=False))
    return root / "out", frames


def _drawn(browser, path: Path, viewport: dict):
    page = browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    charts = page.locator(".chart")
    for i in range(charts.count()):
        charts.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=10_000)
    return page, errors


def test_charts_fit_a_phone(site, big_site, browser):
    pages = [
        big_site[0] / "2022" / "index.html",
        big_site[0] / "2022" / "0159.html",
        site[0] / "2021" / f"{SMALL_CELL_MUNICIPALITY}.html",  # a suppressed category and industry
    ]
    for path in pages:
        page, errors = _drawn(browser, path, PHONE)
        assert errors == [], path
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"phone-{path.parent.name}-{path.stem}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        assert page.evaluate(OVERFLOWING_HEADINGS) == [], path
        for chart in page.evaluate(CHART_METRICS):
            where = (path.name, chart["id"])
            assert chart["outside"] == [], where  # no name, value or axis title cut at the chart's edge
            assert chart["plotWidth"] >= 140, where  # the bars keep room beside the names
            if chart["id"] in ("kategorier-figur", "brancher-figur"):
                # the names above the bars (narrow variant): the bars have almost the whole width
                assert chart["plotWidth"] >= 200 and chart["annotations"] > 0, where
            if chart["smallestLabel"] is not None:
                assert chart["smallestLabel"] >= 10, where  # value labels not shrunk to fit thin bars
        page.close()


# waits until as many elements match a selector as expected: wait_for_function(COUNT_IS, arg=[selector, n])
COUNT_IS = "([selector, n]) => document.querySelectorAll(selector).length === n"


def test_charts_keep_their_wide_layout_on_a_desktop(big_site, browser):
    out, frames = big_site
    page, errors = _drawn(browser, out / "2022" / "index.html", {"width": 1280, "height": 900})
    assert errors == []
    charts = {c["id"]: c for c in page.evaluate(CHART_METRICS)}
    categories = frames["category_national"].filter(pl.col("year") == 2022).height
    assert charts["kategorier-figur"]["yticks"] == categories  # names beside the bars
    assert charts["kategorier-figur"]["annotations"] == 0
    assert all(c["outside"] == [] for c in charts.values())
    # the fakturamatch target is named above the bars, in the legend
    legend = page.locator("#fakturamatch-figur .legendtext")
    assert legend.count() == 1 and legend.first.text_content() == "Mål 80,0%"
    # a window made narrow redraws the chart in its narrow variant, and back
    # (waiting for the redraw, not for a fixed time: a loaded machine redraws later)
    page.set_viewport_size(PHONE)
    page.wait_for_function(COUNT_IS, arg=["#kategorier-figur .annotation-text", categories])
    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_function(COUNT_IS, arg=["#kategorier-figur .ytick text", categories])
    page.close()


def test_printed_charts_and_tables_fit_an_a4_page(big_site, browser):
    out, frames = big_site
    participating = (
        frames["kpi_municipality"].filter((pl.col("year") == 2022) & pl.col("participating")).height
    )
    a4 = {"width": 688, "height": 1000}  # 210 mm less 2 x 14 mm of margin, at 96 px an inch
    page, errors = _drawn(browser, out / "2022" / "index.html", a4)
    assert errors == []
    page.emulate_media(media="print")
    page.wait_for_function("() => [...document.querySelectorAll('.chart')].every(c => c.offsetHeight <= 950)")
    # nothing wider than the page: the browser would shrink the whole print to fit it
    wider = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
          .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .map(el => el.tagName + ' ' + (el.textContent || '').slice(0, 40))"""
    )
    assert wider == []
    assert page.evaluate(
        "[...document.querySelectorAll('.table-scroll')].every(d => getComputedStyle(d).overflowX === 'visible')"
    )
    assert page.evaluate("getComputedStyle(document.querySelector('.chart')).breakInside") == "avoid"
    charts = {c["id"]: c for c in page.evaluate(CHART_METRICS)}
    for chart in charts.values():
        assert chart["height"] <= 950, chart["id"]  # kept whole on one page, with its heading
        assert chart["outside"] == [], chart["id"]
    assert charts["rang-forbrug-figur"]["yticks"] == participating  # every municipality named
    page.pdf(format="A4")  # prints
    page.emulate_media(media="screen")  # back to 20 px a bar
    page.wait_for_function("() => document.querySelector('#rang-forbrug-figur').offsetHeight > 1500")
    page.close()


# WCAG 2.2 A and AA (Danish public bodies' web sites must meet WCAG 2.1 AA), and axe's best practices
AXE_RULES = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    }
}


def test_every_kind_of_page_passes_an_accessibility_audit(site, browser):
    """axe-core, the auditing engine of the accessibility tools, finds no violation on a desktop or a phone."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    out, _ = site
    pages = [
        "index.html",
        "metode.html",
        "2022/index.html",  # revised
        "2020/0159.html",  # the first year: no growth
        "2022/0159.html",  # revised
        "2021/0101.html",  # not participating
        f"2021/{SMALL_CELL_MUNICIPALITY}.html",  # suppressed cells
    ]
    violations = []
    for width in (1200, 390):
        for name in pages:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto((out / name).as_uri())
            page.wait_for_load_state("load")
            if page.locator(".chart").count():
                page.locator(".main-svg").first.wait_for(state="attached", timeout=10_000)
            found = axe.run(page, options=AXE_RULES).response["violations"]
            violations += [(width, name, v["id"], [n["target"] for n in v["nodes"]]) for v in found]
            page.close()
    assert violations == []
