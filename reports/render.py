"""Render the published site "E-handel i tal" from the Parquet marts: data in, HTML and downloads out.

Pure presentation: no Dagster, no figure recomputed in a template. The marts are read once; the only
arithmetic here is light reshaping (a share of a category, purchases per ordering channel). Municipality x
category/industry cells built from fewer than ``min_suppliers`` suppliers are blanked at load time
(METHODS 9), so neither a page, a chart payload nor a download can show them.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly
import polars as pl
import xlsxwriter
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from pipelines.publication import held_back_years, years_without_growth
from pipelines.settings import PROJECT_ROOT, REFERENCE_DIR
from reports import figures
from reports import formatting as fmt

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
MANIFEST_KEYS = ("input_fingerprint", "code_version", "run_id", "generated_at")
SUPPRESSION_NOTE = "– Tallet vises ikke, fordi cellen bygger på færre end {n} leverandører (diskretionering)."

REQUIRED_MARTS: dict[str, tuple[str, ...]] = {
    "kpi_national": (
        "year",
        "participating_municipalities",
        "goods_spend_kr",
        "ehandel_spend_kr",
        "share_spend",
        "goods_purchases",
        "ehandel_purchases",
        "share_purchases",
        "growth_ehandel_spend",
        "largest_category",
        "largest_category_ehandel_spend_kr",
        "largest_category_ehandel_purchases",
        "most_traded_category",
        "most_traded_category_share",
        "typical_industry_code",
        "typical_industry_name",
        "typical_industry_municipalities",
        "fakturamatch_rate",
    ),
    "kpi_municipality": (
        "year",
        "kommunekode",
        "kommunenavn",
        "regionsnavn",
        "participating",
        "goods_spend_kr",
        "ehandel_spend_kr",
        "share_spend",
        "goods_purchases",
        "ehandel_purchases",
        "share_purchases",
        "fritekst_purchases",
        "fakturamatch_rate",
        "typical_industry_code",
        "transaction_cost_kr",
        "potential_saving_kr",
    ),
    "category_national": (
        "year",
        "category",
        "goods_spend_kr",
        "ehandel_spend_kr",
        "goods_purchases",
        "ehandel_purchases",
    ),
    "category_municipality": (
        "year",
        "kommunekode",
        "category",
        "goods_spend_kr",
        "ehandel_spend_kr",
        "goods_purchases",
        "ehandel_purchases",
    ),
    "industry_national": (
        "year",
        "industry_code",
        "industry_name",
        "goods_spend_kr",
        "ehandel_spend_kr",
        "goods_purchases",
        "ehandel_purchases",
    ),
    "industry_municipality": (
        "year",
        "kommunekode",
        "industry_code",
        "industry_name",
        "goods_spend_kr",
        "ehandel_spend_kr",
        "goods_purchases",
        "ehandel_purchases",
    ),
    "coverage": ("year", "kommunekode", "invoice_lines", "order_lines", "participating"),
}
OPTIONAL_MARTS = (
    "compliance_national", "compliance_municipality", "quarantine", "ingest_log", "checks", "revisions",
)  # fmt: skip
# Published under data/: aggregates only. quarantine (raw records), ingest_log and checks (free text) stay in.
PUBLIC_MARTS = (*REQUIRED_MARTS, "compliance_national", "compliance_municipality", "revisions")
# The headline figures that revisions.parquet compares (pipelines/publication.py REVISION_MEASURES), as the
# pages name and format them, in the order they are listed.
REVISION_LABELS: dict[str, tuple[str, str]] = {
    "participating_municipalities": ("Deltagende kommuner", "int"),
    "participating": ("Indgår i opgørelsen", "yes_no"),
    "goods_spend_kr": ("Forbrug, varekøb", "kr"),
    "ehandel_spend_kr": ("Forbrug, e-handel", "kr"),
    "share_spend": ("E-handel, andel af forbrug (kr.)", "pct"),
    "goods_purchases": ("Antal indkøb, varekøb", "int"),
    "ehandel_purchases": ("Antal indkøb, e-handel", "int"),
    "share_purchases": ("E-handel, andel af antal indkøb", "pct"),
    "growth_ehandel_spend": ("Vækst ift. året før", "signed_pct"),
    "fakturamatch_rate": ("Fakturamatch", "pct"),
}
DISCLOSED_MARTS = ("category_municipality", "industry_municipality")
VALUE_COLUMNS = ("goods_spend_kr", "ehandel_spend_kr", "goods_purchases", "ehandel_purchases")
# Columns never published: internal counts behind the disclosure rule.
INTERNAL_COLUMNS = ("supplier_count",)


# The quarantine's reasons (English, for analysts: quarantine.parquet) grouped in Danish for the published pages.
# A row with several reasons ("A; B") is in the group of each (joined with " + ").
QUARANTINE_GROUPS_DA: tuple[tuple[str, str], ...] = (
    (r"kept out by the data-quality check", "Filen afvist af en datakvalitetskontrol"),
    (
        r"not in a municipality folder|delivery folder '.*' is not a municipality code",
        "Filen ligger ikke i en kommunes mappe",
    ),
    (r"only \.xml files are read", "Ikke en XML-fil i mappen ubl"),
    (r"unknown layout|read as .*: deliver one of them", "Ukendte kolonneoverskrifter"),
    (r"DTD", "XML-fil afvist af sikkerhedshensyn"),
    (r"XML is truncated or malformed|ends before the document", "XML-filen er afbrudt eller ugyldig"),
    (
        r"CustomizationID|not an invoice, credit note or order|not in the UBL namespace",
        "Ukendt slags e-dokument",
    ),
    (r"no Danish CVR", "Leverandøren har intet dansk CVR-nummer"),
    (r"not valid text in the file's encoding", "Tegn, der ikke kan læses i filens tegnsæt"),
    (
        r"binary data|not an XML document|the file is empty|not a CSV extract|not a header row",
        "Filen er ikke et udtræk (tom, binær eller et andet format)",
    ),
    (
        r"cannot be split into lines|cannot be read as CSV|fields than the header|quote|longer than",
        "Linjen kan ikke læses som CSV",
    ),
    (r"disagrees with the delivery folder", "Kommunekoden i rækken passer ikke til leveringsmappen"),
    (r"is not a 3-4 digit municipality code", "Ugyldig kommunekode i rækken"),
    (r"is not an 8-digit CVR number", "Leverandørens CVR-nummer mangler eller er ugyldigt"),
    (r"missing fakturanummer|has no number", "Dokumentnummer mangler"),
    (r"is neither Faktura nor Kreditnota", "Ukendt dokumenttype"),
    (r"missing linjenummer|missing ordrelinje", "Linjenummer mangler"),
    (r"is not an order number", "Ordrenummer kan ikke læses"),
    (r"is not katalog, punchout", "Ukendt ordretype"),
    (r"is not a date", "Dato kan ikke læses"),
    (r"is before", "Dato før år 2000"),
    (r"is after", "Dato efter den dag, filen blev indlæst"),
    (r"is not an amount|could not be read", "Beløb kan ikke læses som et tal"),
    (r"mia\. kr\.", "Linjebeløb over 1 mia. kr."),
    (r"currency|exchange rate", "Anden valuta end kroner"),
)
OTHER_REASON_DA = "Anden årsag (se quarantine.parquet)"


_QUARANTINE_PATTERNS = tuple((re.compile(pattern), group) for pattern, group in QUARANTINE_GROUPS_DA)


def reason_group_da(reason: str | None) -> str:
    """The Danish group(s) of a quarantine reason, for the published pages."""
    found = sorted(
        (match.start(), group)
        for pattern, group in _QUARANTINE_PATTERNS
        if (match := pattern.search(reason or ""))
    )
    return " + ".join(dict.fromkeys(group for _, group in found)) or OTHER_REASON_DA  # in the reason's order


@dataclass(frozen=True)
class ReportConfig:
    """What a publication run may vary without touching code."""

    selected_municipalities: tuple[str, ...] = ("0159", "0440", "0860")  # Gladsaxe, Kerteminde, Hjørring
    fakturamatch_target: float = 0.80
    min_suppliers: int = 3
    years: tuple[int, ...] | None = None  # None: every year in kpi_national
    method_path: Path = PROJECT_ROOT / "docs" / "metode.md"
    reference_dir: Path = REFERENCE_DIR
    top_industries: int = 10
    write_xlsx: bool = True


class _Suppressed:
    """A cell hidden by disclosure control: '–' wherever it is shown."""

    def __str__(self) -> str:
        return fmt.DASH

    def __repr__(self) -> str:
        return "SUPPRESSED"


SUPPRESSED = _Suppressed()


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # a kind of reports.formatting.FORMATTERS


@dataclass
class Table:
    columns: list[Column]
    rows: list[dict[str, Any]]

    @property
    def has_suppressed(self) -> bool:
        return any(v is SUPPRESSED for row in self.rows for v in row.values())


@dataclass
class Chart:
    id: str
    title: str
    table: Table
    figure: Any = None  # plotly Figure, or None for a table only
    lead: str = ""
    note: str = ""
    payload: Markup | None = None
    csv_href: str = ""
    xlsx_href: str = ""


@dataclass
class Page:
    path: Path
    template: str
    context: dict[str, Any]
    stem: str  # download file stem
    charts: list[Chart] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------- loading
def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    casts = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Decimal):
            casts.append(pl.col(name).cast(pl.Float64))
        elif name == "kommunekode" and dtype != pl.String:
            casts.append(pl.col(name).cast(pl.String).str.zfill(4))
        elif name in ("industry_code", "typical_industry_code") and dtype != pl.String:
            casts.append(pl.col(name).cast(pl.String).str.zfill(2))
        elif name == "year" and dtype != pl.Int64:
            casts.append(pl.col(name).cast(pl.Int64))
    return frame.with_columns(casts) if casts else frame


def load_marts(marts_dir: Path, min_suppliers: int = 3) -> dict[str, pl.DataFrame]:
    """Read the marts; check the required columns; blank small municipal cells (METHODS 9)."""
    marts: dict[str, pl.DataFrame] = {}
    for name, columns in REQUIRED_MARTS.items():
        path = marts_dir / f"{name}.parquet"
        if not path.exists():
            raise FileNotFoundError(f"{path}: mart missing; run the pipeline (ehandel run) before rendering")
        frame = _normalise(pl.read_parquet(path))
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(
                f"{path}: missing column(s) {', '.join(missing)}; the marts and reports disagree"
            )
        marts[name] = frame
    for name in OPTIONAL_MARTS:
        path = marts_dir / f"{name}.parquet"
        if path.exists():
            marts[name] = _normalise(pl.read_parquet(path))
    for name in DISCLOSED_MARTS:
        marts[name] = suppress_small_cells(marts[name], min_suppliers)
    if "compliance_municipality" in marts:
        marts["compliance_municipality"] = suppress_small_agreement_cells(
            marts["compliance_municipality"], min_suppliers
        )
    return marts


def suppress_small_cells(frame: pl.DataFrame, min_suppliers: int = 3) -> pl.DataFrame:
    """Null every figure of a cell with fewer than ``min_suppliers`` suppliers; flag it in ``suppressed``.

    A figure is any numeric column but the year: amounts, counts and the shares made from them (a share with the
    cell's total beside it would give the hidden amount back)."""
    figures = [
        c for c, dtype in frame.schema.items() if dtype.is_numeric() and c not in ("year", *INTERNAL_COLUMNS)
    ]
    if "supplier_count" not in frame.columns:
        # Without the count we cannot prove a cell safe: publish none of its figures.
        return frame.with_columns(
            [pl.lit(None, dtype=frame.schema[c]).alias(c) for c in figures]
        ).with_columns(suppressed=pl.lit(True))
    small = pl.col("supplier_count").fill_null(0) < min_suppliers
    return (
        frame.with_columns([pl.when(small).then(None).otherwise(pl.col(c)).alias(c) for c in figures])
        .with_columns(suppressed=small)
        .drop(INTERNAL_COLUMNS)
    )


AGREEMENT_SUPPLIER_COUNTS = ("category_suppliers", "agreement_suppliers", "other_suppliers")


def suppress_small_agreement_cells(frame: pl.DataFrame, min_suppliers: int = 3) -> pl.DataFrame:
    """METHODS 9 for compliance per municipality and category: the category's spend is hidden when fewer than
    ``min_suppliers`` suppliers make it; the agreement suppliers' part and the share also when that part, or the
    rest of the category's spend (the category's less the part), comes from 1 to ``min_suppliers`` - 1
    suppliers, for either would give those suppliers' sales. ``suppressed`` flags a hidden part."""
    if not all(c in frame.columns for c in AGREEMENT_SUPPLIER_COUNTS):
        hidden = ("category_spend_kr", "agreement_spend_kr", "compliance_share")
        return frame.with_columns(
            [pl.lit(None, dtype=frame.schema[c]).alias(c) for c in hidden if c in frame.columns]
        ).with_columns(suppressed=pl.lit(True))

    def few(column: str) -> pl.Expr:
        return pl.col(column).fill_null(0).is_between(1, min_suppliers - 1)

    small_category = pl.col("category_suppliers").fill_null(0) < min_suppliers
    small_part = small_category | few("agreement_suppliers") | few("other_suppliers")
    return frame.with_columns(
        category_spend_kr=pl.when(small_category).then(None).otherwise(pl.col("category_spend_kr")),
        agreement_spend_kr=pl.when(small_part).then(None).otherwise(pl.col("agreement_spend_kr")),
        compliance_share=pl.when(small_part).then(None).otherwise(pl.col("compliance_share")),
        suppressed=small_part,
    ).drop(AGREEMENT_SUPPLIER_COUNTS)


def _rows(frame: pl.DataFrame | None) -> list[dict[str, Any]]:
    return [] if frame is None else frame.to_dicts()


def _reference_rates(reference_dir: Path) -> dict[str, tuple[float, str]]:
    path = reference_dir / "transaktionsomkostninger.csv"
    with open(path, encoding="utf-8") as handle:
        return {r["kanal"]: (float(r["kr_pr_indkoeb"]), r["beskrivelse"]) for r in csv.DictReader(handle)}


def _reference_names(reference_dir: Path) -> dict[str, tuple[str, str]]:
    path = reference_dir / "kommuner.csv"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as handle:
        return {r["kommunekode"]: (r["kommunenavn"], r["regionsnavn"]) for r in csv.DictReader(handle)}


def _method_html(path: Path) -> Markup:
    """docs/metode.md as HTML (raw HTML in the markdown is escaped), or a placeholder."""
    if not path.exists():
        return Markup("<p>Metodebeskrivelsen er endnu ikke tilgængelig.</p>")
    from markdown_it import MarkdownIt

    converter = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
    return Markup(converter.render(path.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------------------------------- environment
def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(fmt.JINJA_FILTERS)
    env.tests["suppressed"] = lambda value: value is SUPPRESSED
    return env


def _check_manifest(manifest: dict) -> dict[str, str]:
    missing = [k for k in MANIFEST_KEYS if not manifest.get(k)]
    if missing:
        raise ValueError(f"manifest lacks {', '.join(missing)}: every page must be stamped with them")
    return {k: str(manifest[k]) for k in MANIFEST_KEYS}


# --------------------------------------------------------------------------------------------------- helpers
def _share(numerator: Any, denominator: Any) -> float | None:
    if numerator is None or denominator in (None, 0) or numerator is SUPPRESSED:
        return None
    return numerator / denominator


def _by_ehandel_spend(row: dict[str, Any]) -> tuple[bool, float, float]:
    """Largest e-handel spend first (the seed's largest category is the largest by e-handel), then goods spend;
    suppressed cells last. The national and the municipal pages list categories and industries in this order."""
    return (
        bool(row.get("suppressed")),
        -(row.get("ehandel_spend_kr") or 0),
        -(row.get("goods_spend_kr") or 0),
    )


def _revision_cause(row: dict[str, Any]) -> str:
    """Why a publication revised a figure: a growth figure hidden or shown again because the year before is held
    back or released; else what changed since the publication whose figures were shown."""
    held_back = row.get("held_back_year")
    if held_back is not None:
        if row["new_value"] is None:
            return f"de nye tal for {held_back} er tilbageholdt, så væksten vises ikke"
        return f"de tilbageholdte tal for {held_back} er offentliggjort, så væksten vises igen"
    causes = [
        *(["nye, rettede eller tilbagetrukne leverancer"] if row["input_changed"] else []),
        *(["en ny programversion"] if row["code_changed"] else []),
    ]
    # the same files and code: rows dated after the day they were loaded now count (docs/metode.md)
    return " og ".join(causes) or "de samme leverancer opgjort på en senere dag"


def _name(row: dict[str, Any]) -> str:
    return fmt.text(row.get("kommunenavn"))


def _channel_table(row: dict[str, Any], rates: dict[str, tuple[float, str]]) -> Table:
    """Purchases by ordering channel (METHODS 7) from the counts in the marts."""
    goods, ehandel = row.get("goods_purchases"), row.get("ehandel_purchases")
    matched = row.get("fakturamatch_purchases")
    if matched is None and row.get("fakturamatch_rate") is not None and ehandel is not None:
        matched = round(row["fakturamatch_rate"] * ehandel)
    counts = {
        "fakturamatch": matched,
        "ehandel": None if ehandel is None or matched is None else ehandel - matched,
        "mail_telefon_web": None if goods is None or ehandel is None else goods - ehandel,
    }
    labels = {
        "fakturamatch": "E-handel med fakturamatch",
        "ehandel": "E-handel uden fakturamatch",
        "mail_telefon_web": "Øvrige indkøb (mail, telefon, web)",
    }
    rows = []
    for channel, count in counts.items():
        rate = rates.get(channel, (None, ""))[0]
        rows.append(
            {
                "channel": labels[channel],
                "purchases": count,
                "rate": rate,
                "cost": None if count is None or rate is None else count * rate,
            }
        )
    # The totals as the marts state them (METHODS 7), not re-added here.
    rows.append(
        {"channel": "I alt", "purchases": goods, "rate": None, "cost": row.get("transaction_cost_kr")}
    )
    rows.append(
        {
            "channel": "Mulig besparelse, hvis alle indkøb var fakturamatch",
            "purchases": None,
            "rate": None,
            "cost": row.get("potential_saving_kr"),
        }
    )
    return Table(
        [
            Column("channel", "Kanal"),
            Column("purchases", "Antal indkøb", "int"),
            Column("rate", "Omkostning pr. indkøb", "kr"),
            Column("cost", "Transaktionsomkostning", "kr"),
        ],
        rows,
    )


def _channel_chart(
    chart_id: str, row: dict[str, Any], rates: dict[str, tuple[float, str]], lead: str
) -> Chart:
    table = _channel_table(row, rates)
    channels = table.rows[:3]
    fig = figures.channels(
        [r["channel"] for r in channels], [r["purchases"] for r in channels], [r["rate"] for r in channels]
    )
    # the channels of METHODS 7's cost, as in the chart and table (the reference table has more)
    short = {
        "fakturamatch": "fakturamatch",
        "ehandel": "e-handel",
        "mail_telefon_web": "mail, telefon og web",
    }
    listed = ", ".join(f"{name} {fmt.kr(rates[k][0])}" for k, name in short.items() if k in rates)
    return Chart(
        chart_id,
        "Indkøb og transaktionsomkostninger efter kanal",
        table,
        fig,
        lead=lead,
        note=f"Anslåede omkostninger pr. indkøb: {listed}",  # fmt.kr ends in 'kr.'
    )


def _breakdown_chart(
    chart_id: str,
    title: str,
    rows: list[dict[str, Any]],
    label_key: str,
    label_title: str,
    lead: str,
    extra_columns: Sequence[Column] = (),
    code_key: str | None = None,
) -> Chart:
    """Goods vs e-handel spend per category or industry; suppressed cells are gaps and '–'."""
    table_rows = []
    for r in rows:
        suppressed = bool(r.get("suppressed"))
        values = {k: (SUPPRESSED if suppressed else r.get(k)) for k in VALUE_COLUMNS}
        share_s = SUPPRESSED if suppressed else _share(r.get("ehandel_spend_kr"), r.get("goods_spend_kr"))
        share_p = SUPPRESSED if suppressed else _share(r.get("ehandel_purchases"), r.get("goods_purchases"))
        label = r[label_key] if code_key is None else f"{r[code_key]} {fmt.text(r[label_key])}"
        table_rows.append(
            {
                "label": label,
                **values,
                "share_spend": share_s,
                "share_purchases": share_p,
                **{c.key: r.get(c.key) for c in extra_columns},
            }
        )
    columns = [
        Column("label", label_title),
        Column("goods_spend_kr", "Forbrug, varekøb", "kr"),
        Column("ehandel_spend_kr", "Heraf e-handel", "kr"),
        Column("share_spend", "E-handelsandel (kr.)", "pct"),
        Column("goods_purchases", "Antal indkøb", "int"),
        Column("ehandel_purchases", "Heraf e-handel", "int"),
        Column("share_purchases", "E-handelsandel (antal)", "pct"),
        *extra_columns,
    ]

    def plotted(key: str) -> list[Any]:
        return [None if r[key] is SUPPRESSED else r[key] for r in table_rows]

    fig = figures.amounts(
        [r["label"] for r in table_rows],
        [("Forbrug, varekøb", plotted("goods_spend_kr")), ("Heraf e-handel", plotted("ehandel_spend_kr"))],
        [r["goods_spend_kr"] is SUPPRESSED for r in table_rows],
    )
    return Chart(chart_id, title, Table(columns, table_rows), fig, lead=lead)


def _compliance_chart(chart_id: str, rows: list[dict[str, Any]], lead: str) -> Chart | None:
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: str(r["aftalenummer"]))
    table = Table(
        [
            Column("aftale", "Aftale"),
            Column("category", "Kategori"),
            Column("category_spend_kr", "Forbrug i kategorien", "kr"),
            Column("agreement_spend_kr", "Heraf hos aftalens leverandører", "kr"),
            Column("compliance_share", "Aftaleoverholdelse", "pct"),
        ],
        [
            {
                "aftale": f"{r['aftalenummer']} {fmt.text(r['aftale_navn'])}",
                **r,
                **{  # hidden by METHODS 9 (suppress_small_agreement_cells): '–' with the footnote
                    k: SUPPRESSED
                    for k in ("category_spend_kr", "agreement_spend_kr", "compliance_share")
                    if r.get("suppressed") and r.get(k) is None
                },
            }
            for r in rows
        ],
    )
    fig = figures.ranking(
        [r["aftale"] for r in table.rows],
        [None if r["compliance_share"] is SUPPRESSED else r["compliance_share"] for r in table.rows],
        [False] * len(rows),
        "Andel af forbruget hos aftalens leverandører",
    )
    return Chart(chart_id, "Aftaleoverholdelse (compliance) på SKI-aftaler", table, fig, lead=lead)


# --------------------------------------------------------------------------------------------------- the site
class _Site:
    def __init__(
        self, marts: dict[str, pl.DataFrame], manifest: dict[str, str], config: ReportConfig, out_dir: Path
    ):
        self.marts, self.manifest, self.config, self.out_dir = marts, manifest, config, out_dir
        self.rates = _reference_rates(config.reference_dir)
        self.reference_names = _reference_names(config.reference_dir)
        self.method = _method_html(config.method_path)
        kpi_n = marts["kpi_national"].sort("year")
        years = [int(y) for y in kpi_n["year"].to_list()]
        self.years = [y for y in years if config.years is None or y in config.years]
        self.all_years = years
        self.national = {r["year"]: r for r in kpi_n.to_dicts()}
        self.municipal: dict[int, list[dict[str, Any]]] = {}
        for r in marts["kpi_municipality"].sort("kommunekode").to_dicts():
            fmt.kommunekode(r["kommunekode"])
            self.municipal.setdefault(r["year"], []).append(r)
        self.by_code: dict[str, dict[int, dict[str, Any]]] = {}
        for year, rows in self.municipal.items():
            for r in rows:
                self.by_code.setdefault(r["kommunekode"], {})[year] = r
        self.coverage = {(r["year"], r["kommunekode"]): r for r in _rows(marts["coverage"])}
        self.categories_n = self._group(marts["category_national"], ("year",))
        self.categories_m = self._group(marts["category_municipality"], ("year", "kommunekode"))
        self.industries_n = self._group(marts["industry_national"], ("year",))
        self.industries_m = self._group(marts["industry_municipality"], ("year", "kommunekode"))
        self.compliance_n = self._group(marts.get("compliance_national"), ("year",))
        self.compliance_m = self._group(marts.get("compliance_municipality"), ("year", "kommunekode"))
        self.revisions = self._group(marts.get("revisions"), ("year",))
        self.quality = self._quality()

    @staticmethod
    def _group(frame: pl.DataFrame | None, keys: tuple[str, ...]) -> dict[Any, list[dict[str, Any]]]:
        grouped: dict[Any, list[dict[str, Any]]] = {}
        for r in _rows(frame):
            key = r[keys[0]] if len(keys) == 1 else tuple(r[k] for k in keys)
            grouped.setdefault(key, []).append(r)
        return grouped

    # ----------------------------------------------------------------------------------------------- quality
    def _quality(self) -> dict[str, Any]:
        log, quarantine, checks = (self.marts.get(n) for n in ("ingest_log", "quarantine", "checks"))
        summary: dict[str, Any] = {
            "available": any(f is not None for f in (log, quarantine, checks)),
            "log": None,
            "reasons": [],
            "checks": [],
            "quarantined_rows": None,
        }
        if log is not None and log.height:
            sums = {
                c: int(log[c].sum())
                for c in ("rows_read", "rows_accepted", "rows_quarantined", "rows_duplicate")
                if c in log.columns
            }
            per_kind = []
            if "kind" in log.columns:
                for r in (
                    log.group_by("kind")
                    .agg(pl.len().alias("files"), *[pl.col(c).sum() for c in sums])
                    .sort("kind")
                    .to_dicts()
                ):
                    per_kind.append(r)
            summary["log"] = {"files": log.height, **sums, "per_kind": per_kind}
        if quarantine is not None and "reason" in quarantine.columns:
            summary["quarantined_rows"] = quarantine.height
            groups = {reason: reason_group_da(reason) for reason in quarantine["reason"].unique().to_list()}
            summary["reasons"] = (
                quarantine.with_columns(
                    reason=pl.col("reason").replace_strict(groups, return_dtype=pl.String)
                )
                .group_by("reason")
                .agg(
                    pl.len().alias("rows"),
                    pl.col("source_file").n_unique().alias("files")
                    if "source_file" in quarantine.columns
                    else pl.lit(None).alias("files"),
                )
                .sort(["rows", "reason"], descending=[True, False])
                .to_dicts()
            )
        if checks is not None and {"passed", "description"} <= set(checks.columns):
            # the file checks run on invoice files and on order files alike: say which
            files = {"ingest/invoice_lines": " (fakturafiler)", "ingest/order_lines": " (ordrefiler)"}
            summary["checks"] = [
                {
                    "description": f"{r.get('description') or ''}{files.get(r.get('asset') or '', '')}",
                    "severity": r.get("severity"),
                    "passed": r["passed"],
                    "years": ", ".join(str(y) for y in r.get("years") or []),  # the years a failure concerns
                }
                for r in checks.sort("passed").to_dicts()
            ]
        return summary

    # ----------------------------------------------------------------------------------------------- national
    def national_page(self, year: int) -> Page:
        cfg = self.config
        kpi = self.national[year]
        previous = self.national.get(year - 1)
        rows = self.municipal.get(year, [])
        participating = [r for r in rows if r["participating"]]
        selected = set(cfg.selected_municipalities)
        charts: list[Chart] = []

        for key, title, label in (
            ("share_spend", "Kommunerne efter e-handelsandel af forbrug (kr.)", "Andel af forbrug (kr.)"),
            ("share_purchases", "Kommunerne efter e-handelsandel af antal indkøb", "Andel af antal indkøb"),
        ):
            ranked = sorted(participating, key=lambda r, key=key: (-(r[key] or 0), r["kommunekode"]))
            table = Table(
                [
                    Column("rank", "Nr.", "int"),
                    Column("kommunenavn", "Kommune"),
                    Column("kommunekode", "Kode"),
                    Column("regionsnavn", "Region"),
                    Column(key, label, "pct"),
                ],
                [{"rank": i, **r} for i, r in enumerate(ranked, start=1)],
            )
            fig = figures.ranking(
                [_name(r) for r in ranked],
                [r[key] for r in ranked],
                [r["kommunekode"] in selected for r in ranked],
                label,
            )
            chart_id = "rang-forbrug" if key == "share_spend" else "rang-indkoeb"
            charts.append(
                Chart(
                    chart_id,
                    title,
                    table,
                    fig,
                    lead=f"Alle {len(ranked)} deltagende kommuner. Udvalgte kommuner er fremhævet.",
                )
            )

        charts.append(self._national_development(year))
        charts.append(
            _breakdown_chart(
                "kategorier",
                "Indkøbskategorier",
                sorted(self.categories_n.get(year, []), key=_by_ehandel_spend),
                "category",
                "Kategori",
                "Forbrug og e-handel pr. indkøbskategori, alle deltagende kommuner, størst e-handel først. "
                "Et indkøb med varer i flere kategorier tælles i hver af dem, så andelene af e-handelsindkøb kan "
                "summe til mere end 100%.",
                extra_columns=[Column("ehandel_purchase_share", "Andel af e-handelsindkøb", "pct")]
                if any("ehandel_purchase_share" in r for r in self.categories_n.get(year, []))
                else (),
            )
        )
        industries = sorted(self.industries_n.get(year, []), key=_by_ehandel_spend)
        charts.append(
            _breakdown_chart(
                "brancher",
                "Leverandørernes brancher",
                industries[: cfg.top_industries],
                "industry_name",
                "Branche (DB07)",
                f"De {min(cfg.top_industries, len(industries))} brancher med størst e-handel "
                "(leverandørens DB07-hovedgruppe).",
                code_key="industry_code",
            )
        )
        charts.append(self._fakturamatch_national(year, participating))
        charts.append(
            _channel_chart(
                "transaktionsomkostninger",
                kpi,
                self.rates,
                "Alle deltagende kommuners varekøb fordelt på bestillingskanal.",
            )
        )
        compliance = _compliance_chart(
            "compliance",
            self.compliance_n.get(year, []),
            "Andel af forbruget i aftalens kategori, der gik til aftalens leverandører.",
        )
        if compliance:
            charts.append(compliance)
        charts.append(self._coverage_table(year))

        context = {
            "kpi": kpi,
            "previous": previous,
            "year": year,
            "nation_tiles": self._nation_tiles(kpi, previous),
            "method": self.method,
            "quality": self.quality,
            "target": cfg.fakturamatch_target,
            "revisions": self.revised(year, None),
        }
        return Page(self.out_dir / str(year) / "index.html", "national.html.j2", context, "landet", charts)

    def revised(self, year: int, code: str | None) -> list[dict[str, Any]]:
        """The publications that revised a page's headline figures (code None: the national ones), newest
        first: each with its day and the figures whose shown value changed, before and now. On the national
        page also the municipalities whose figures it revised. A change too small to show at the published
        precision is left to revisions.parquet."""
        order = list(REVISION_LABELS)
        publications: dict[str, dict[str, Any]] = {}
        for r in sorted(self.revisions.get(year, []), key=lambda r: order.index(r["measure"])):
            label, kind = REVISION_LABELS[r["measure"]]
            before, now = fmt.fmt(r["previous_value"], kind), fmt.fmt(r["new_value"], kind)
            if before == now or (code is not None and r["kommunekode"] != code):
                continue
            entry = publications.setdefault(
                r["revised_at"],
                {"day": fmt.day(r["revised_at"]), "moment": fmt.moment(r["revised_at"]), "at": r["revised_at"],
                 "causes": {}, "figures": [], "municipalities": {}},
            )  # fmt: skip
            entry["causes"][_revision_cause(r)] = None  # in order, once each
            if r["kommunekode"] == code:
                entry["figures"].append({"measure": label, "before": before, "now": now})
            else:
                entry["municipalities"][r["kommunekode"]] = r["kommunenavn"]
        return [
            p | {"cause": "; ".join(p["causes"]),
                 "municipalities": sorted(p["municipalities"].items(), key=lambda m: m[1] or "")}
            for _, p in sorted(publications.items(), reverse=True)
        ]  # fmt: skip

    def _nation_tiles(self, kpi: dict[str, Any], previous: dict[str, Any] | None) -> list[dict[str, Any]]:
        return [
            {
                "label": "E-handel i alt",
                "value": fmt.kr_short(kpi["ehandel_spend_kr"]),
                "sub": f"af {fmt.kr_short(kpi['goods_spend_kr'])} varekøb",
                "before": fmt.kr_short(previous["ehandel_spend_kr"]) if previous else None,
            },
            {
                "label": "Heraf fritekstordrer",
                "value": fmt.integer(kpi.get("fritekst_purchases")),
                "sub": "indkøb",
                "before": fmt.integer(previous.get("fritekst_purchases")) if previous else None,
            },
            {
                "label": "Fakturamatch",
                "value": fmt.percent(kpi["fakturamatch_rate"]),
                "sub": f"af e-handelsindkøb (mål {fmt.percent(self.config.fakturamatch_target)})",
                "before": fmt.percent(previous["fakturamatch_rate"]) if previous else None,
            },
            {
                "label": "Transaktionsomkostninger",
                "value": fmt.kr_short(kpi.get("transaction_cost_kr")),
                "sub": "anslået, alle varekøb",
                "before": fmt.kr_short(previous.get("transaction_cost_kr")) if previous else None,
            },
            {
                "label": "Mulig besparelse",
                "value": fmt.kr_short(kpi.get("potential_saving_kr")),
                "sub": "hvis alle indkøb var fakturamatch",
                "before": fmt.kr_short(previous.get("potential_saving_kr")) if previous else None,
            },
        ]

    def _national_development(self, year: int) -> Chart:
        years = [y for y in self.all_years if y <= year]
        black = figures.OKABE_ITO["black"]
        series = [
            figures.Series(
                "Landet, andel af forbrug (kr.)",
                years,
                [self.national[y]["share_spend"] for y in years],
                black,
            ),
            figures.Series(
                "Landet, andel af antal indkøb",
                years,
                [self.national[y]["share_purchases"] for y in years],
                black,
                dashed=True,
            ),
        ]
        table_rows = [
            {
                "name": "Landet",
                "measure": "Andel af forbrug (kr.)",
                **{str(y): self.national[y]["share_spend"] for y in years},
            },
            {
                "name": "Landet",
                "measure": "Andel af antal indkøb",
                **{str(y): self.national[y]["share_purchases"] for y in years},
            },
        ]
        for code in self.config.selected_municipalities:
            history = self.by_code.get(code)
            if not history:
                continue
            name = _name(history[max(history)])
            values = [
                history[y]["share_spend"] if y in history and history[y]["participating"] else None
                for y in years
            ]
            series.append(figures.Series(f"{name}, andel af forbrug (kr.)", years, values))
            table_rows.append(
                {
                    "name": name,
                    "measure": "Andel af forbrug (kr.)",
                    **{str(y): v for y, v in zip(years, values, strict=True)},
                }
            )
        fig = figures.development(series, "E-handelsandel")
        table = Table(
            [
                Column("name", "Enhed"),
                Column("measure", "Mål"),
                *[Column(str(y), str(y), "pct") for y in years],
            ],
            table_rows,
        )
        return Chart(
            "udvikling",
            "Udviklingen over årene: landet og udvalgte kommuner",
            table,
            fig,
            lead="E-handelsandelen for hele landet og for udvalgte kommuner. Et hul i en kurve er et "
            "år, hvor kommunen ikke er opgjort.",
        )

    def _fakturamatch_national(self, year: int, participating: list[dict[str, Any]]) -> Chart:
        target = self.config.fakturamatch_target
        ranked = sorted(participating, key=lambda r: (-(r["fakturamatch_rate"] or 0), r["kommunekode"]))
        fig = figures.target_bars(
            [_name(r) for r in ranked],
            [r["fakturamatch_rate"] for r in ranked],
            target,
            f"Mål {fmt.percent(target)}",
            None,
            "Andel af e-handelsindkøb med fakturamatch",
        )
        table = Table(
            [
                Column("kommunenavn", "Kommune"),
                Column("kommunekode", "Kode"),
                Column("fakturamatch_rate", "Fakturamatch", "pct"),
            ],
            ranked,
        )
        reached = sum(1 for r in ranked if (r["fakturamatch_rate"] or 0) >= target)
        return Chart(
            "fakturamatch",
            f"Fakturamatch mod målet på {fmt.percent(target)}",
            table,
            fig,
            lead=f"{reached} af {len(ranked)} kommuner når målet (grøn). Landet samlet: "
            f"{fmt.percent(self.national[year]['fakturamatch_rate'])}.",
        )

    def _coverage_table(self, year: int) -> Chart:
        rows = []
        codes = sorted(
            {code for (y, code) in self.coverage if y == year}
            | {r["kommunekode"] for r in self.municipal.get(year, [])}
        )
        for code in codes:
            cov = self.coverage.get((year, code), {})
            kpi = self.by_code.get(code, {}).get(year, {})
            name = kpi.get("kommunenavn") or self.reference_names.get(code, ("", ""))[0]
            participating = kpi.get("participating", cov.get("participating", False))
            rows.append(
                {
                    "kommunenavn": name,
                    "kommunekode": code,
                    "invoice_lines": cov.get("invoice_lines"),
                    "order_lines": cov.get("order_lines"),
                    "status": "deltager" if participating else "ikke opgjort",
                    "reason": "" if participating else self.reason(year, code),
                }
            )
        table = Table(
            [
                Column("kommunenavn", "Kommune"),
                Column("kommunekode", "Kode"),
                Column("invoice_lines", "Fakturalinjer", "int"),
                Column("order_lines", "Ordrelinjer", "int"),
                Column("status", "Status"),
                Column("reason", "Begrundelse"),
            ],
            rows,
        )
        return Chart(
            "daekning",
            "Dækning: hvilke kommuner indgår",
            table,
            None,
            lead="En kommune indgår, når den har leveret både fakturaer og ordrer for året.",
        )

    def reason(self, year: int, code: str) -> str:
        cov = self.coverage.get((year, code))
        if cov is None:
            return "Kommunen har ikke leveret data for året."
        invoices, orders = cov.get("invoice_lines") or 0, cov.get("order_lines") or 0
        if not invoices and not orders:
            return "Kommunen har hverken leveret fakturaer eller ordrer for året."
        if not orders:
            return "Kommunen har leveret fakturaer, men ingen ordrer fra e-handelssystemet for året."
        if not invoices:
            return "Kommunen har leveret ordrer, men ingen fakturaer fra økonomisystemet for året."
        return "Kommunens data for året opfylder ikke betingelserne for at indgå."

    # ----------------------------------------------------------------------------------------------- municipal
    def municipal_page(self, year: int, row: dict[str, Any]) -> Page:
        code = fmt.kommunekode(row["kommunekode"])
        history = self.by_code[code]
        context: dict[str, Any] = {
            "m": row,
            "year": year,
            "kpi": self.national[year],
            "history_years": [y for y in self.years if y in history],
            "previous": history.get(year - 1) if history.get(year - 1, {}).get("participating") else None,
            "reason": "" if row["participating"] else self.reason(year, code),
            "participating_count": sum(1 for r in self.municipal[year] if r["participating"]),
            "target": self.config.fakturamatch_target,
            "revisions": self.revised(year, code),
        }
        charts: list[Chart] = []
        if row["participating"]:
            charts = self._municipal_charts(year, row, history)
            context["tiles"] = self._municipal_tiles(row, context["previous"], context["participating_count"])
        else:
            context["tiles"] = []
        return Page(self.out_dir / str(year) / f"{code}.html", "municipality.html.j2", context, code, charts)

    def _municipal_tiles(self, m: dict[str, Any], previous: dict[str, Any] | None, n: int) -> list[dict]:
        def before(key: str, formatter) -> str | None:
            return formatter(previous.get(key)) if previous else None

        return [
            {
                "label": "E-handel, andel af forbrug (kr.)",
                "value": fmt.percent(m["share_spend"]),
                "sub": f"Landet: {fmt.percent(m.get('national_share_spend'))}",
                "before": before("share_spend", fmt.percent),
                "big": True,
            },
            {
                "label": "E-handel, andel af antal indkøb",
                "value": fmt.percent(m["share_purchases"]),
                "sub": f"Landet: {fmt.percent(m.get('national_share_purchases'))}",
                "before": before("share_purchases", fmt.percent),
                "big": True,
            },
            {
                "label": "Placering",
                "value": f"nr. {fmt.integer(m.get('rank_share_spend'))}",
                "sub": f"af {n} kommuner (andel af forbrug)",
                "before": None,
            },
            {
                "label": "Vækst i e-handel ift. året før",
                "value": fmt.signed_percent(m.get("growth_ehandel_spend")),
                "sub": "forbrug (kr.)",
                "before": before("growth_ehandel_spend", fmt.signed_percent),
            },
            {
                "label": "E-handel",
                "value": fmt.kr_short(m["ehandel_spend_kr"]),
                "sub": f"{fmt.integer(m['ehandel_purchases'])} indkøb, heraf "
                f"{fmt.integer(m['fritekst_purchases'])} fritekst",
                "before": before("ehandel_spend_kr", fmt.kr_short),
            },
            {
                "label": "Leverandørens typiske branche",
                "value": fmt.industry(m.get("typical_industry_name") or m.get("typical_industry_code")),
                "sub": f"DB07 {fmt.text(m.get('typical_industry_code'))}",
                "before": None,
                "word": True,
            },
            {
                "label": "Fakturamatch",
                "value": fmt.percent(m["fakturamatch_rate"]),
                "sub": f"mål {fmt.percent(self.config.fakturamatch_target)}",
                "before": before("fakturamatch_rate", fmt.percent),
            },
            {
                "label": "Mulig besparelse",
                "value": fmt.kr_short(m["potential_saving_kr"]),
                "sub": f"af {fmt.kr_short(m['transaction_cost_kr'])} i transaktionsomkostninger",
                "before": before("potential_saving_kr", fmt.kr_short),
            },
        ]

    def _peer_group(self, year: int, m: dict[str, Any]) -> str:
        """Which municipalities 'of the same size' are: the participating ones in its fifth by goods spend."""
        quintile = m.get("size_quintile")
        if quintile is None:
            return ""
        peers = [r for r in self.municipal.get(year, []) if r.get("size_quintile") == quintile]
        return (
            f"Kommuner af samme størrelse er de {fmt.integer(len(peers))} deltagende kommuner i samme femtedel "
            f"efter varekøb (kr.) som kommunen: femtedel {quintile} af 5, hvor 1 har det mindste varekøb."
        )

    def _municipal_charts(self, year: int, m: dict[str, Any], history: dict[int, dict]) -> list[Chart]:
        name, code = _name(m), m["kommunekode"]
        charts: list[Chart] = []
        groups = ["Andel af forbrug (kr.)", "Andel af antal indkøb"]
        series = [
            (name, [m["share_spend"], m["share_purchases"]]),
            (fmt.text(m.get("regionsnavn")), [m.get("region_share_spend"), m.get("region_share_purchases")]),
            ("Kommuner af samme størrelse", [m.get("peer_share_spend"), m.get("peer_share_purchases")]),
            ("Landet", [m.get("national_share_spend"), m.get("national_share_purchases")]),
        ]
        table = Table(
            [
                Column("name", "Sammenligning"),
                Column("spend", groups[0], "pct"),
                Column("purchases", groups[1], "pct"),
            ],
            [{"name": s[0], "spend": s[1][0], "purchases": s[1][1]} for s in series],
        )
        charts.append(
            Chart(
                "sammenligning",
                "Kommunen sammenlignet med region, kommuner af samme størrelse og landet",
                table,
                figures.grouped_shares(groups, series, "E-handelsandel"),
                lead=f"Placering: nr. {fmt.integer(m.get('rank_share_spend'))} efter andel af forbrug"
                f" og nr. {fmt.integer(m.get('rank_share_purchases'))} efter andel af antal "
                f"indkøb. {self._peer_group(year, m)}",
            )
        )

        years = [y for y in self.all_years if y <= year]
        own = [history.get(y) if history.get(y, {}).get("participating") else None for y in years]
        values = {
            f"{name}, andel af forbrug (kr.)": [o["share_spend"] if o else None for o in own],
            f"{name}, andel af antal indkøb": [o["share_purchases"] if o else None for o in own],
            "Landet, andel af forbrug (kr.)": [self.national[y]["share_spend"] for y in years],
            "Landet, andel af antal indkøb": [self.national[y]["share_purchases"] for y in years],
        }
        blue, black = figures.OKABE_ITO["blue"], figures.OKABE_ITO["black"]
        styles = [(blue, False), (blue, True), (black, False), (black, True)]
        fig = figures.development(
            [
                figures.Series(k, years, v, c, d)
                for (k, v), (c, d) in zip(values.items(), styles, strict=True)
            ],
            "E-handelsandel",
        )
        table = Table(
            [Column("measure", "Serie"), *[Column(str(y), str(y), "pct") for y in years]],
            [{"measure": k, **{str(y): x for y, x in zip(years, v, strict=True)}} for k, v in values.items()],
        )
        charts.append(
            Chart(
                "udvikling",
                "Udviklingen over årene",
                table,
                fig,
                lead="Kommunens e-handelsandele (blå) over årene sammenlignet med landet (sort). "
                "Fuld linje: andel af forbrug (kr.); stiplet: andel af antal indkøb.",
            )
        )

        charts.append(
            _breakdown_chart(
                "kategorier",
                "Indkøbskategorier",
                sorted(self.categories_m.get((year, code), []), key=_by_ehandel_spend),
                "category",
                "Kategori",
                "Kommunens forbrug og e-handel pr. indkøbskategori, størst e-handel først.",
            )
        )
        charts.append(
            _breakdown_chart(
                "brancher",
                "Leverandørernes brancher",
                sorted(self.industries_m.get((year, code), []), key=_by_ehandel_spend),
                "industry_name",
                "Branche (DB07)",
                "Kommunens forbrug og e-handel pr. leverandørbranche, størst e-handel først.",
                code_key="industry_code",
            )
        )

        rates = [o["fakturamatch_rate"] if o else None for o in own]
        target = self.config.fakturamatch_target
        fig = figures.development(
            [
                figures.Series(f"{name}, fakturamatch", years, rates, figures.OKABE_ITO["blue"]),
                figures.Series(
                    "Landet, fakturamatch",
                    years,
                    [self.national[y]["fakturamatch_rate"] for y in years],
                    figures.OKABE_ITO["black"],
                    dashed=True,
                ),
            ],
            "Andel af e-handelsindkøb",
            target=target,
            target_label=f"Mål {fmt.percent(target)}",
        )
        table = Table(
            [Column("year", "År", "year"), Column("own", name, "pct"), Column("national", "Landet", "pct")],
            [
                {"year": y, "own": r, "national": self.national[y]["fakturamatch_rate"]}
                for y, r in zip(years, rates, strict=True)
            ],
        )
        charts.append(
            Chart(
                "fakturamatch",
                f"Fakturamatch mod målet på {fmt.percent(target)}",
                table,
                fig,
                lead="Andelen af kommunens e-handelsindkøb, hvor fakturaen matches automatisk mod ordren.",
            )
        )
        charts.append(
            _channel_chart(
                "transaktionsomkostninger",
                m,
                self.rates,
                f"Kommunens varekøb fordelt på bestillingskanal. Transaktionsomkostninger i alt "
                f"{fmt.kr(m['transaction_cost_kr'])}; mulig besparelse {fmt.kr(m['potential_saving_kr'])}, "
                "hvis alle indkøb var e-handel med fakturamatch.",
            )
        )
        compliance = _compliance_chart(
            "compliance",
            self.compliance_m.get((year, code), []),
            "Andel af kommunens forbrug i aftalens kategori, der gik til aftalens leverandører.",
        )
        if compliance:
            charts.append(compliance)
        return charts

    # ----------------------------------------------------------------------------------------------- index
    def index_context(self, downloads: list[dict[str, Any]]) -> dict[str, Any]:
        municipalities = []
        for code in sorted(self.by_code):
            history = self.by_code[code]
            latest = history[max(history)]
            municipalities.append(
                {
                    "kommunekode": code,
                    "kommunenavn": latest.get("kommunenavn"),
                    "regionsnavn": latest.get("regionsnavn"),
                    "years": [
                        {
                            "year": y,
                            "participating": history[y]["participating"],
                            "share_spend": history[y].get("share_spend"),
                        }
                        if y in history
                        else None
                        for y in self.years
                    ],
                }
            )
        return {
            "years": [self.national[y] for y in reversed(self.years)],
            # as the national pages show them: changes too small to show do not count
            "last_revised": {y: revised[0]["at"] for y in self.years if (revised := self.revised(y, None))},
            "year_list": self.years,
            "municipalities": municipalities,
            "downloads": downloads,
            "quality": self.quality,
            "latest_year": max(self.years) if self.years else None,
        }


# --------------------------------------------------------------------------------------------------- writing
def _cell(value: Any) -> Any:
    return fmt.DASH if value is SUPPRESSED else value


def _danish_csv_cell(value: Any) -> Any:
    """A chart's CSV is for Danish spreadsheets (semicolons, decimal comma): 0.1275 is written 0,1275."""
    return repr(value).replace(".", ",") if isinstance(value, float) else value


def _write_chart_data(page: Page, data_dir: Path, write_xlsx: bool, note: str) -> None:
    """The data behind every chart of a page: one CSV per chart, one workbook per page (a sheet per chart).

    The chart CSVs have Danish headers and are written as Danish Excel reads a CSV it opens: semicolon-separated,
    decimal comma, UTF-8 with a byte-order mark (else æ, ø and å come out garbled). The marts' CSVs of the index
    (English column names, for programs) keep commas and decimal points."""
    rel = "data/"
    workbook = None
    if write_xlsx:
        workbook = xlsxwriter.Workbook(
            data_dir / f"{page.stem}.xlsx",
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "in_memory": True,
            },
        )
        formats = {
            "pct": workbook.add_format({"num_format": "0.0%"}),
            "kr": workbook.add_format({"num_format": "#,##0"}),
            "int": workbook.add_format({"num_format": "#,##0"}),
            "header": workbook.add_format({"bold": True, "bottom": 1}),
        }
    for chart in page.charts:
        name = f"{page.stem}-{chart.id}.csv"
        with open(data_dir / name, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow([c.label for c in chart.table.columns])
            for row in chart.table.rows:
                writer.writerow([
                    "" if row.get(c.key) is None else _danish_csv_cell(_cell(row.get(c.key)))
                    for c in chart.table.columns
                ])  # fmt: skip
            if chart.table.has_suppressed:
                writer.writerow([note])
        chart.csv_href = rel + name
        if workbook is not None:
            sheet = workbook.add_worksheet(chart.id[:31])
            for j, column in enumerate(chart.table.columns):
                sheet.write_string(0, j, column.label, formats["header"])
                sheet.set_column(j, j, max(12, min(40, len(column.label) + 2)))
            for i, row in enumerate(chart.table.rows, start=1):
                for j, column in enumerate(chart.table.columns):
                    value = row.get(column.key)
                    if value is None:
                        continue
                    if value is SUPPRESSED or isinstance(value, str):
                        sheet.write_string(i, j, _cell(value))
                    elif isinstance(value, bool):
                        sheet.write_boolean(i, j, value)
                    elif isinstance(value, int | float):
                        sheet.write_number(i, j, value, formats.get(column.kind))
                    else:
                        sheet.write_string(i, j, str(value))
            if chart.table.has_suppressed:
                sheet.write_string(len(chart.table.rows) + 2, 0, note)
            chart.xlsx_href = rel + f"{page.stem}.xlsx"
    if workbook is not None:
        workbook.close()


def _publish_marts(marts: dict[str, pl.DataFrame], data_dir: Path, write_xlsx: bool) -> list[dict[str, Any]]:
    """The public marts as Parquet, CSV and XLSX. Disclosed cells are null in Parquet, '–' in CSV/XLSX."""
    published = []
    descriptions = {
        "kpi_national": "Landstal pr. år",
        "kpi_municipality": "Kommunetal pr. år",
        "category_national": "Indkøbskategorier, landet",
        "category_municipality": "Indkøbskategorier pr. kommune",
        "industry_national": "Leverandørbrancher, landet",
        "industry_municipality": "Leverandørbrancher pr. kommune",
        "coverage": "Dækning: leverede linjer og deltagelse",
        "compliance_national": "Aftaleoverholdelse, landet",
        "compliance_municipality": "Aftaleoverholdelse pr. kommune",
        "revisions": "Revisioner: nøgletal, der er ændret siden en tidligere udgivelse, med tallet før og nu",
    }
    for name in PUBLIC_MARTS:
        frame = marts.get(name)
        if frame is None:
            continue
        frame = frame.drop([c for c in INTERNAL_COLUMNS if c in frame.columns])
        frame.write_parquet(data_dir / f"{name}.parquet")
        text_frame = frame
        if "suppressed" in frame.columns:
            text_frame = frame.with_columns(
                [
                    pl.when(pl.col("suppressed"))
                    .then(pl.lit(fmt.DASH))
                    .otherwise(pl.col(c).cast(pl.String))
                    .alias(c)
                    for c in VALUE_COLUMNS
                    if c in frame.columns
                ]
            )
        text_frame.write_csv(data_dir / f"{name}.csv")
        formats = ["parquet", "csv"]
        if write_xlsx:
            _write_frame_xlsx(text_frame, data_dir / f"{name}.xlsx", name)
            formats.append("xlsx")
        published.append(
            {
                "name": name,
                "description": descriptions.get(name, name),
                "rows": frame.height,
                "formats": formats,
                "suppressed": "suppressed" in frame.columns,
            }
        )
    return published


def _write_frame_xlsx(frame: pl.DataFrame, path: Path, sheet_name: str) -> None:
    workbook = xlsxwriter.Workbook(
        path,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = workbook.add_worksheet(sheet_name[:31])
    sheet.write_row(0, 0, frame.columns)
    for i, row in enumerate(frame.iter_rows(), start=1):
        for j, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(i, j, value)
            elif isinstance(value, bool | int | float):
                sheet.write(i, j, value)
            else:
                sheet.write_string(i, j, str(value))
    workbook.close()


def _copy_static(out_dir: Path) -> None:
    assets = out_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    # Always overwrite: a stale plotly.min.js must not survive an upgrade of plotly.
    shutil.copyfile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", assets / "plotly.min.js")
    for path in STATIC_DIR.iterdir():
        if path.is_file():
            shutil.copyfile(path, assets / path.name)


def render_site(
    marts_dir: Path,
    out_dir: Path,
    manifest: dict,
    config: ReportConfig | None = None,
    only_years: Collection[int] | None = None,
    on_page: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Render the index, the national page of every year, every municipality's page and the downloads.

    ``only_years`` re-renders the pages of those years alone (``<year>/``: the national page, the municipal
    pages, their chart data) into a site that has everything else already: the index, the method page, the
    assets and the site-wide downloads are not written. Each page is the same as in a full render (the
    navigation still lists every year). Returns the paths of the HTML pages written. ``on_page(done, total)`` is
    called after each year page (progress).
    """
    config = config or ReportConfig()
    stamp = _check_manifest(manifest)
    marts = load_marts(Path(marts_dir), config.min_suppliers)
    out_dir = Path(out_dir)
    site = _Site(marts, stamp, config, out_dir)
    env = make_environment()
    years, downloads = site.years, []
    if only_years is not None:
        missing = sorted(set(only_years) - set(site.years))
        if missing:
            raise ValueError(
                f"no figures for {', '.join(map(str, missing))} in kpi_national "
                f"(years with figures: {', '.join(map(str, site.years)) or 'none'})"
            )
        years = [y for y in site.years if y in only_years]
    else:
        _copy_static(out_dir)
        (out_dir / "data").mkdir(parents=True, exist_ok=True)
        downloads = _publish_marts(marts, out_dir / "data", config.write_xlsx)

    pages: list[Page] = []
    for year in years:
        pages.append(site.national_page(year))
        pages.extend(site.municipal_page(year, row) for row in site.municipal.get(year, []))

    common = {
        "manifest": stamp,
        # years whose new figures a failed check held back: {year: day of the figures shown}
        "held_back": {year: v["generated_at"] for year, v in held_back_years(Path(marts_dir)).items()},
        # years published without growth figures: {year: the withheld year before it}
        "no_growth": years_without_growth(Path(marts_dir)),
        "years_all": site.years,
        "suppression_note": SUPPRESSION_NOTE.format(n=config.min_suppliers),
    }
    written: list[Path] = []
    for year in years:
        (out_dir / str(year) / "data").mkdir(parents=True, exist_ok=True)
    for page in pages:
        _write_chart_data(page, page.path.parent / "data", config.write_xlsx, common["suppression_note"])
        for chart in page.charts:
            if chart.figure is not None:
                chart.payload = Markup(figures.to_payload(chart.figure))
        html = env.get_template(page.template).render(
            **common, **page.context, charts=page.charts, root="../", stem=page.stem
        )
        page.path.write_text(html, encoding="utf-8")
        written.append(page.path)
        if on_page is not None:
            on_page(len(written), len(pages))
    if only_years is not None:
        return written

    index = out_dir / "index.html"
    index.write_text(
        env.get_template("index.html.j2").render(**common, **site.index_context(downloads), root=""),
        encoding="utf-8",
    )
    method = out_dir / "metode.html"
    method.write_text(
        env.get_template("method.html.j2").render(**common, method=site.method, root=""), encoding="utf-8"
    )
    return [index, method, *written]
