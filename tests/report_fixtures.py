"""A small, hand-made, internally consistent set of marts for the report tests.

Every national figure is pooled from the municipal rows exactly as METHODS 6 says, so a test can check a
page against the marts. Deliberate edge cases:
- København (0101) does not participate in the middle year (invoices delivered, no orders): "ikke opgjort";
- municipality 0751 is named ``<script>alert(1)</script>`` and industry 62 carries the same name (XSS);
- Kerteminde's "Rengøring og hygiejne" and industry 58 have fewer than 3 suppliers (disclosure control);
- the last year was revised once: Gladsaxe's e-handel spend (and the nation's) by 120.000 kr.;
- optional marts (compliance, quarantine, ingest_log, checks, revisions) are written unless ``optional=False``.
``municipalities="all"`` writes all 98 municipalities (5 non-participating a year) for benchmarks.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import polars as pl

from pipelines.settings import REFERENCE_DIR

XSS = "<script>alert(1)</script>"
CATEGORIES = ["Fødevarer", "Kontorartikler og papir", "IT og telefoni", "Rengøring og hygiejne"]
INDUSTRIES = {"46": "Engroshandel", "47": "Detailhandel", "58": "Udgivervirksomhed", "62": XSS}
DEFAULT_MUNICIPALITIES = [
    ("0101", "København", "Region Hovedstaden"),
    ("0159", "Gladsaxe", "Region Hovedstaden"),
    ("0440", "Kerteminde", "Region Syddanmark"),
    ("0461", "Odense", "Region Syddanmark"),
    ("0751", XSS, "Region Midtjylland"),
    ("0860", "Hjørring", "Region Nordjylland"),
]
SMALL_CELL_MUNICIPALITY = "0440"
SMALL_CELL_CATEGORY = "Rengøring og hygiejne"
SMALL_CELL_INDUSTRY = "58"
RATES = {"fakturamatch": 68, "ehandel": 99, "other": 130}


def _add_shares(cells: list[dict]) -> None:
    """The marts' shares of each cell, as the SQL gives them: e-handel over goods, by spend and by purchases."""
    for c in cells:
        c["share_spend"] = c["ehandel_spend_kr"] / c["goods_spend_kr"] if c["goods_spend_kr"] else None
        c["share_purchases"] = c["ehandel_purchases"] / c["goods_purchases"] if c["goods_purchases"] else None


def _all_municipalities() -> list[tuple[str, str, str]]:
    with open(REFERENCE_DIR / "kommuner.csv", encoding="utf-8") as handle:
        return [(r["kommunekode"], r["kommunenavn"], r["regionsnavn"]) for r in csv.DictReader(handle)]


def _pooled(rows: list[dict], num: str, den: str) -> float | None:
    denominator = sum(r[den] for r in rows)
    return sum(r[num] for r in rows) / denominator if denominator else None


def build_report_marts(
    years: tuple[int, ...] = (2020, 2021, 2022),
    municipalities: str | list[tuple[str, str, str]] | None = None,
    seed: int = 7,
) -> dict[str, pl.DataFrame]:
    rng = random.Random(seed)
    munis = _all_municipalities() if municipalities == "all" else (municipalities or DEFAULT_MUNICIPALITIES)
    absent: dict[int, set[str]] = {}
    for i, year in enumerate(years):
        if municipalities == "all":
            absent[year] = {m[0] for m in rng.sample(munis, 5)}
        else:
            absent[year] = {"0101"} if i == len(years) // 2 and len(years) > 1 else set()

    base = {m[0]: (rng.uniform(0.06, 0.18), rng.uniform(0.12, 0.30), rng.uniform(0.35, 0.85)) for m in munis}
    size = {m[0]: rng.randint(8_000, 120_000) for m in munis}
    kpi_m, cat_m, ind_m, cov, comp_m = [], [], [], [], []
    for y_index, year in enumerate(years):
        for code, name, region in munis:
            participating = code not in absent[year]
            cov.append(
                {
                    "year": year,
                    "kommunekode": code,
                    "invoice_lines": size[code] * 7,
                    "order_lines": size[code] * 3 if participating else 0,
                    "participating": participating,
                }
            )
            if not participating:
                kpi_m.append(
                    {
                        "year": year,
                        "kommunekode": code,
                        "kommunenavn": name,
                        "regionsnavn": region,
                        "participating": False,
                    }
                )
                continue
            share_s, share_p, match = base[code]
            trend = 1 + 0.08 * y_index
            cats = []
            for c_index, category in enumerate(CATEGORIES):
                purchases = int(size[code] * (0.4, 0.25, 0.2, 0.15)[c_index])
                spend = round(purchases * rng.uniform(700, 2500), 2)
                few = code == SMALL_CELL_MUNICIPALITY and category == SMALL_CELL_CATEGORY
                cats.append(
                    {
                        "year": year,
                        "kommunekode": code,
                        "category": category,
                        "goods_spend_kr": spend,
                        "ehandel_spend_kr": round(
                            spend * min(0.95, share_s * trend * (1.6 - 0.3 * c_index)), 2
                        ),
                        "goods_purchases": purchases,
                        "ehandel_purchases": int(
                            purchases * min(0.95, share_p * trend * (1.5 - 0.3 * c_index))
                        ),
                        "supplier_count": 2 if few else rng.randint(3, 60),
                    }
                )
            _add_shares(cats)
            cat_m.extend(cats)
            goods_spend = round(sum(c["goods_spend_kr"] for c in cats), 2)
            ehandel_spend = round(sum(c["ehandel_spend_kr"] for c in cats), 2)
            goods_purchases = sum(c["goods_purchases"] for c in cats)
            ehandel_purchases = sum(c["ehandel_purchases"] for c in cats)
            weights = {"46": 0.55, "47": 0.2, "58": 0.1, "62": 0.15}
            if code in ("0751", "0860"):
                weights = {"46": 0.2, "47": 0.5, "58": 0.1, "62": 0.2}
            inds = []
            for industry, weight in weights.items():
                few = code == SMALL_CELL_MUNICIPALITY and industry == SMALL_CELL_INDUSTRY
                inds.append(
                    {
                        "year": year,
                        "kommunekode": code,
                        "industry_code": industry,
                        "industry_name": INDUSTRIES[industry],
                        "goods_spend_kr": round(goods_spend * weight, 2),
                        "ehandel_spend_kr": round(ehandel_spend * weight, 2),
                        "goods_purchases": int(goods_purchases * weight),
                        "ehandel_purchases": int(ehandel_purchases * weight),
                        "supplier_count": 1 if few else rng.randint(3, 40),
                    }
                )
            _add_shares(inds)
            ind_m.extend(inds)
            typical = max(inds, key=lambda r: (r["ehandel_spend_kr"], -int(r["industry_code"])))
            fm = int(ehandel_purchases * min(0.95, match * trend))
            cost = (
                fm * RATES["fakturamatch"]
                + (ehandel_purchases - fm) * RATES["ehandel"]
                + (goods_purchases - ehandel_purchases) * RATES["other"]
            )
            kpi_m.append(
                {
                    "year": year,
                    "kommunekode": code,
                    "kommunenavn": name,
                    "regionsnavn": region,
                    "participating": True,
                    "goods_spend_kr": goods_spend,
                    "ehandel_spend_kr": ehandel_spend,
                    "share_spend": ehandel_spend / goods_spend,
                    "goods_purchases": goods_purchases,
                    "ehandel_purchases": ehandel_purchases,
                    "share_purchases": ehandel_purchases / goods_purchases,
                    "fritekst_purchases": ehandel_purchases // 10,
                    "fakturamatch_purchases": fm,
                    "fakturamatch_rate": fm / ehandel_purchases,
                    "typical_industry_code": typical["industry_code"],
                    "typical_industry_name": typical["industry_name"],
                    "transaction_cost_kr": float(cost),
                    "potential_saving_kr": float(cost - goods_purchases * RATES["fakturamatch"]),
                    "unclassified_spend_kr": round(goods_spend * 0.01, 2),
                }
            )
            for number, agreement, category in (
                ("50.90", "Fødevarer", "Fødevarer"),
                ("50.10", "Kontorartikler", "Kontorartikler og papir"),
            ):
                cat = next(c for c in cats if c["category"] == category)
                agreement_spend = round(cat["goods_spend_kr"] * rng.uniform(0.4, 0.9), 2)
                comp_m.append(
                    {
                        "year": year,
                        "kommunekode": code,
                        "aftalenummer": number,
                        "aftale_navn": agreement,
                        "category": category,
                        "category_spend_kr": cat["goods_spend_kr"],
                        "agreement_spend_kr": agreement_spend,
                        "compliance_share": agreement_spend / cat["goods_spend_kr"],
                        # the small municipality buys its office supplies from 2 suppliers off the agreement
                        "category_suppliers": 9,
                        "agreement_suppliers": 7,
                        "other_suppliers": 2 if (code, number) == (SMALL_CELL_MUNICIPALITY, "50.10") else 3,
                    }
                )

    # Derived municipal columns and the national pooling (participating municipalities only).
    kpi_n, cat_n, ind_n, comp_n = [], [], [], []
    for year in years:
        rows = [r for r in kpi_m if r["year"] == year and r["participating"]]
        previous = {r["kommunekode"]: r for r in kpi_m if r["year"] == year - 1 and r["participating"]}
        for key, rank_col in (
            ("share_spend", "rank_share_spend"),
            ("share_purchases", "rank_share_purchases"),
        ):
            for rank, r in enumerate(sorted(rows, key=lambda r, key=key: -r[key]), start=1):
                r[rank_col] = rank
        by_size = sorted(rows, key=lambda r: r["goods_purchases"])
        for i, r in enumerate(by_size):
            r["size_quintile"] = 1 + (5 * i) // len(by_size)
        national_s = _pooled(rows, "ehandel_spend_kr", "goods_spend_kr")
        national_p = _pooled(rows, "ehandel_purchases", "goods_purchases")
        for r in rows:
            region = [o for o in rows if o["regionsnavn"] == r["regionsnavn"]]
            peers = [o for o in rows if o["size_quintile"] == r["size_quintile"]]
            r["region_share_spend"] = _pooled(region, "ehandel_spend_kr", "goods_spend_kr")
            r["region_share_purchases"] = _pooled(region, "ehandel_purchases", "goods_purchases")
            r["peer_share_spend"] = _pooled(peers, "ehandel_spend_kr", "goods_spend_kr")
            r["peer_share_purchases"] = _pooled(peers, "ehandel_purchases", "goods_purchases")
            r["national_share_spend"] = national_s
            r["national_share_purchases"] = national_p
            before = previous.get(r["kommunekode"])
            r["growth_ehandel_spend"] = (
                r["ehandel_spend_kr"] / before["ehandel_spend_kr"] - 1 if before else None
            )
        both = [r for r in rows if r["kommunekode"] in previous]
        growth = (
            (
                sum(r["ehandel_spend_kr"] for r in both)
                / sum(previous[r["kommunekode"]]["ehandel_spend_kr"] for r in both)
                - 1
            )
            if both
            else None
        )
        participating = {r["kommunekode"] for r in rows}
        ehandel_purchases = sum(r["ehandel_purchases"] for r in rows)
        cats = []
        for category in CATEGORIES:
            cells = [
                c
                for c in cat_m
                if c["year"] == year and c["category"] == category and c["kommunekode"] in participating
            ]
            cats.append(
                {
                    "year": year,
                    "category": category,
                    **{
                        k: sum(c[k] for c in cells)
                        for k in (
                            "goods_spend_kr",
                            "ehandel_spend_kr",
                            "goods_purchases",
                            "ehandel_purchases",
                        )
                    },
                    "supplier_count": max(c["supplier_count"] for c in cells) + 5,
                }
            )
            cats[-1]["goods_spend_kr"] = round(cats[-1]["goods_spend_kr"], 2)
            cats[-1]["ehandel_spend_kr"] = round(cats[-1]["ehandel_spend_kr"], 2)
            cats[-1]["ehandel_purchase_share"] = cats[-1]["ehandel_purchases"] / ehandel_purchases
        cat_n.extend(cats)
        for industry, industry_name in INDUSTRIES.items():
            cells = [
                c
                for c in ind_m
                if c["year"] == year and c["industry_code"] == industry and c["kommunekode"] in participating
            ]
            ind_n.append(
                {
                    "year": year,
                    "industry_code": industry,
                    "industry_name": industry_name,
                    **{k: round(sum(c[k] for c in cells), 2) for k in ("goods_spend_kr", "ehandel_spend_kr")},
                    **{k: sum(c[k] for c in cells) for k in ("goods_purchases", "ehandel_purchases")},
                    "supplier_count": max(c["supplier_count"] for c in cells) + 5,
                }
            )
        for number in ("50.90", "50.10"):
            cells = [c for c in comp_m if c["year"] == year and c["aftalenummer"] == number]
            comp_n.append(
                {k: cells[0][k] for k in ("year", "aftalenummer", "aftale_navn", "category")}
                | {
                    "category_spend_kr": round(sum(c["category_spend_kr"] for c in cells), 2),
                    "agreement_spend_kr": round(sum(c["agreement_spend_kr"] for c in cells), 2),
                }
            )
            comp_n[-1]["compliance_share"] = (
                comp_n[-1]["agreement_spend_kr"] / comp_n[-1]["category_spend_kr"]
            )
        largest = max(cats, key=lambda c: c["ehandel_spend_kr"])
        most = max(cats, key=lambda c: c["ehandel_purchase_share"])
        typical_counts: dict[str, int] = {}
        for r in rows:
            typical_counts[r["typical_industry_code"]] = typical_counts.get(r["typical_industry_code"], 0) + 1
        typical = min(typical_counts, key=lambda k: (-typical_counts[k], k))
        fm = sum(r["fakturamatch_purchases"] for r in rows)
        kpi_n.append(
            {
                "year": year,
                "participating_municipalities": len(rows),
                "goods_spend_kr": round(sum(r["goods_spend_kr"] for r in rows), 2),
                "ehandel_spend_kr": round(sum(r["ehandel_spend_kr"] for r in rows), 2),
                "share_spend": national_s,
                "goods_purchases": sum(r["goods_purchases"] for r in rows),
                "ehandel_purchases": ehandel_purchases,
                "share_purchases": national_p,
                "growth_ehandel_spend": growth,
                "largest_category": largest["category"],
                "largest_category_ehandel_spend_kr": largest["ehandel_spend_kr"],
                "largest_category_ehandel_purchases": largest["ehandel_purchases"],
                "most_traded_category": most["category"],
                "most_traded_category_share": most["ehandel_purchase_share"],
                "typical_industry_code": typical,
                "typical_industry_name": INDUSTRIES[typical],
                "typical_industry_municipalities": typical_counts[typical],
                "fakturamatch_rate": fm / ehandel_purchases,
                "fritekst_purchases": sum(r["fritekst_purchases"] for r in rows),
                "fakturamatch_purchases": fm,
                "transaction_cost_kr": sum(r["transaction_cost_kr"] for r in rows),
                "potential_saving_kr": sum(r["potential_saving_kr"] for r in rows),
                "unclassified_spend_kr": round(sum(r["unclassified_spend_kr"] for r in rows), 2),
                "growth_municipalities": len(both),
                "delivering_municipalities": sum(1 for c in cov if c["year"] == year),
            }
        )

    quarantine = pl.DataFrame(
        {
            "source_file": [
                "invoices/0159/faktura_2021.csv",
                "invoices/0159/faktura_2021.csv",
                "xml/0440/inv-77.xml",
            ],
            "line_number": [12, 40, None],
            "reason": [  # as the pipeline writes them (English, for analysts)
                "beloeb 'abc' is not an amount (e.g. 1.234,56)",
                "beloeb '' is not an amount (e.g. 1.234,56); missing linjenummer (the line number)",
                "the XML is truncated or malformed at line 1: the file ends before the document does",
            ],
            "raw_record": ["12;abc;" + XSS, "40;;", "<Invoice/>"],
        },
        schema_overrides={"line_number": pl.Int64},
    )
    ingest_log = pl.DataFrame(
        [
            {
                "source_file": f"{kind}/{code}/{kind}_{year}.csv",
                "kommunekode": code,
                "kind": kind,
                "rows_read": size[code] * 3,
                "rows_accepted": size[code] * 3 - 2,
                "rows_quarantined": 2,
                "rows_duplicate": 0,
            }
            for year in years
            for code, _, _ in munis[:3]
            for kind in ("invoices", "orders")
        ]
    )
    checks = pl.DataFrame(
        {
            "run_id": ["r1", "r1", "r1", "r1"],
            "asset": [
                "staging/stg_invoice_lines",
                "marts/kpi_national",
                "ingest/invoice_lines",
                "ingest/order_lines",
            ],
            "check_name": ["amount_parses", "shares_between_0_and_1", "file_cvr_format", "file_cvr_format"],
            "engine": ["sql", "great_expectations", "great_expectations", "great_expectations"],
            "severity": ["WARN", "ERROR", "ERROR", "ERROR"],
            "passed": [False, True, True, True],
            "description": [
                "Beløb der ikke kan læses",
                "Andele ligger mellem 0 og 1",
                "CVR-nummeret har 8 cifre",
                "CVR-nummeret har 8 cifre",
            ],
            "details": ['{"files": 1}', "{}", "{}", "{}"],
            "years": [[2021], [], [], []],
        },
        schema_overrides={"years": pl.List(pl.Int32)},
    )
    # One publication revised the last year: Gladsaxe's late delivery raised its e-handel spend by 120.000 kr.
    # (and so the national figures), and moved its share of purchases by 0,00001 percentage points: too little to
    # show with one decimal.
    last = max(years)
    nation = next(r for r in kpi_n if r["year"] == last)
    gladsaxe = next(r for r in kpi_m if r["year"] == last and r["kommunekode"] == "0159")
    revised = [
        (None, None, "ehandel_spend_kr", nation["ehandel_spend_kr"] - 120_000, nation["ehandel_spend_kr"]),
        (None, None, "share_spend", (nation["ehandel_spend_kr"] - 120_000) / nation["goods_spend_kr"],
         nation["share_spend"]),
        ("0159", "Gladsaxe", "ehandel_spend_kr", gladsaxe["ehandel_spend_kr"] - 120_000,
         gladsaxe["ehandel_spend_kr"]),
        ("0159", "Gladsaxe", "share_purchases", gladsaxe["share_purchases"] + 1e-7, gladsaxe["share_purchases"]),
    ]  # fmt: skip
    revisions = pl.DataFrame(
        [
            {
                "revised_at": REVISED_AT,
                "run_id": "test-run-0001",
                "previous_published_at": "2024-02-01T12:00:00Z",
                "previous_run_id": "test-run-0000",
                "input_changed": True,
                "code_changed": False,
                "year": last,
                "kommunekode": code,
                "kommunenavn": name,
                "measure": measure,
                "previous_value": float(before),
                "new_value": float(now),
            }
            for code, name, measure, before, now in revised
        ],
        schema_overrides={"kommunekode": pl.String, "kommunenavn": pl.String},
    )
    return {
        "kpi_national": pl.DataFrame(kpi_n),
        "kpi_municipality": pl.DataFrame(kpi_m, infer_schema_length=None),
        "category_national": pl.DataFrame(cat_n),
        "category_municipality": pl.DataFrame(cat_m),
        "industry_national": pl.DataFrame(ind_n),
        "industry_municipality": pl.DataFrame(ind_m),
        "coverage": pl.DataFrame(cov),
        "compliance_national": pl.DataFrame(comp_n),
        "compliance_municipality": pl.DataFrame(comp_m),
        "quarantine": quarantine,
        "ingest_log": ingest_log,
        "checks": checks,
        "revisions": revisions,
    }


OPTIONAL = (
    "compliance_national",
    "compliance_municipality",
    "quarantine",
    "ingest_log",
    "checks",
    "revisions",
)
REVISED_AT = "2024-03-01T11:00:00Z"


def write_report_marts(
    marts_dir: Path,
    years: tuple[int, ...] = (2020, 2021, 2022),
    municipalities: str | list[tuple[str, str, str]] | None = None,
    optional: bool = True,
) -> dict[str, pl.DataFrame]:
    """Write the fixture marts as Parquet into ``marts_dir``; return the frames for assertions."""
    marts_dir.mkdir(parents=True, exist_ok=True)
    frames = build_report_marts(years, municipalities)
    if not optional:
        frames = {name: frame for name, frame in frames.items() if name not in OPTIONAL}
    for name, frame in frames.items():
        frame.write_parquet(marts_dir / f"{name}.parquet")
    return frames


MANIFEST = {
    "input_fingerprint": "sha256:3f2a9c0d1e7b",
    "code_version": "0.1.0+g1a2b3c4",
    "run_id": "test-run-0001",
    "generated_at": "2024-03-01T12:00:00+01:00",
}


def fail_an_error_check(checks_parquet: Path, years: list[int] | None) -> None:
    """Add a failed ERROR check on marts/kpi_national naming `years` (None: no year, so every year) to a
    published checks.parquet, as a run whose mart check failed would have written it."""
    import duckdb

    target = checks_parquet.with_name(".checks.parquet")
    with duckdb.connect() as con:
        con.execute(
            "copy (select * from read_parquet($path) union all "
            "(select * replace ('marts/kpi_national' as asset, 'kpi_national_shares_in_range' as check_name, "
            "'ERROR' as severity, false as passed, $years::integer[] as years) from read_parquet($path) limit 1)) "
            f"to '{target.as_posix()}' (format parquet)",
            {"path": str(checks_parquet), "years": years},
        )
    target.replace(checks_parquet)
