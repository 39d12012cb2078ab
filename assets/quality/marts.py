"""Checks of the warehouse after the marts are built: GX suites on the small mart tables, the SQL checks of
sql/checks/, and the summary of the file expectations of every delivered file. All evaluations of a run become
the rows of marts.mart_checks (DIR/marts/checks.parquet), in DATA_CONTRACT's columns plus `years`: the years a
failure concerns (empty when it concerns no particular year).
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assets.quality import gx
from assets.quality.files import checks_for
from pipelines.settings import SQL_DIR

ERROR, WARN = "ERROR", "WARN"
CHECKS_DIR = SQL_DIR / "checks"
MAX_LISTED = 50  # offending rows listed in details; the count says how many there are
NAME_COLUMNS = ("year", "kommunekode", "kommunenavn", "category", "industry_code")


# --- the GX suites on the marts -----------------------------------------------------------------------


@dataclass(frozen=True)
class MartCheck:
    name: str
    table: str  # marts.<table>
    severity: str
    description: str  # Danish
    kind: str  # between | unique | regex
    columns: tuple[str, ...]
    low: float | None = None
    high: float | None = None
    regex: str | None = None

    def expectations(self) -> list:
        e = gx.expectations()
        meta = {"check": self.name}
        if self.kind == "unique" and len(self.columns) == 1:
            return [e.ExpectColumnValuesToBeUnique(column=self.columns[0], meta=meta)]
        if self.kind == "unique":
            return [e.ExpectCompoundColumnsToBeUnique(column_list=list(self.columns), meta=meta)]
        if self.kind == "regex":
            return [
                e.ExpectColumnValuesToMatchRegex(column=c, regex=self.regex or "", meta=meta)
                for c in self.columns
            ]
        return [
            e.ExpectColumnValuesToBeBetween(column=c, min_value=self.low, max_value=self.high, meta=meta)
            for c in self.columns
        ]


SHARES = ("share_spend", "share_purchases", "fakturamatch_rate")
COUNTS = ("goods_purchases", "ehandel_purchases")
KEYS = {
    "mart_kpi_national": ("year",),
    "mart_kpi_municipality": ("year", "kommunekode"),
    "mart_category_national": ("year", "category"),
    "mart_category_municipality": ("year", "kommunekode", "category"),
    "mart_industry_national": ("year", "industry_code"),
    "mart_industry_municipality": ("year", "kommunekode", "industry_code"),
    "mart_coverage": ("year", "kommunekode"),
}
NAMES_DA = {
    "mart_kpi_national": "landstallene", "mart_kpi_municipality": "kommunetallene",
    "mart_category_national": "kategorier (landet)", "mart_category_municipality": "kategorier pr. kommune",
    "mart_industry_national": "brancher (landet)", "mart_industry_municipality": "brancher pr. kommune",
    "mart_coverage": "dækningstabellen",
}  # fmt: skip

MART_CHECKS = [
    MartCheck("kpi_national_shares_in_range", "mart_kpi_national", ERROR,
              "Landstallenes andele (forbrug, indkøb, fakturamatch, mest handlet) ligger mellem 0 og 1.",
              "between", (*SHARES, "most_traded_category_share"), 0, 1),
    MartCheck("kpi_national_participants_at_most_98", "mart_kpi_national", ERROR,
              "Antallet af deltagende kommuner er mellem 0 og 98.", "between", ("participating_municipalities",), 0, 98),
    MartCheck("kpi_national_totals_non_negative", "mart_kpi_national", ERROR,
              "Landstallenes forbrug, e-handel og antal indkøb er ikke negative.",
              "between", ("goods_spend_kr", "ehandel_spend_kr", *COUNTS), 0, None),
    MartCheck("kpi_municipality_shares_in_range", "mart_kpi_municipality", ERROR,
              "Kommunernes andele (forbrug, indkøb, fakturamatch) ligger mellem 0 og 1.", "between", SHARES, 0, 1),
    MartCheck("kpi_municipality_counts_non_negative", "mart_kpi_municipality", ERROR,
              "Kommunernes antal indkøb er ikke negative.", "between", (*COUNTS, "fritekst_purchases"), 0, None),
    MartCheck("kpi_municipality_spend_non_negative", "mart_kpi_municipality", WARN,
              "Kommunernes forbrug og e-handel i kr. er ikke negative (kreditnotaer kan i sjældne tilfælde "
              "overstige årets fakturaer).", "between", ("goods_spend_kr", "ehandel_spend_kr"), 0, None),
    MartCheck("kpi_municipality_kommunekode_format", "mart_kpi_municipality", ERROR,
              "Kommunekoden i kommunetallene består af 4 cifre.", "regex", ("kommunekode",), regex=r"^\d{4}$"),
    *(MartCheck(f"{table.removeprefix('mart_')}_one_row_per_key", table, ERROR,
                f"Én række pr. nøgle ({', '.join(key)}) i {NAMES_DA[table]}.", "unique", key)
      for table, key in KEYS.items()),
    *(MartCheck(f"{table.removeprefix('mart_')}_counts_non_negative", table, ERROR,
                f"Antal indkøb er ikke negative i {NAMES_DA[table]}.", "between", COUNTS, 0, None)
      for table in ("mart_category_national", "mart_category_municipality", "mart_industry_national",
                    "mart_industry_municipality")),
]  # fmt: skip


def _rows_named(frame, index: list[int], value_columns: tuple[str, ...]) -> list[dict]:
    columns = [c for c in (*NAME_COLUMNS, *value_columns) if c in frame.columns]
    return [{c: gx.plain(frame.at[i, c]) for c in columns} for i in index]


Selection = set[tuple[str, str]] | None  # (asset 'layer/table', check_name) to evaluate; None: every check


def _failed_to_run(
    asset: str, name: str, engine: str, severity: str, description: str, error: Exception
) -> dict:
    """The evaluation of a check that could not run (a table it reads is missing, say): failed, with the error."""
    return {
        "asset": asset, "check_name": name, "engine": engine, "severity": severity, "passed": False,
        "description": description, "details": gx.to_json({"count": 0, "rows": [], "errors": [str(error)[:300]]}),
        "years": [],
    }  # fmt: skip


def run_mart_suites(con: duckdb.DuckDBPyConnection, only: Selection = None) -> list[dict]:
    """One GX run per mart table (pandas frame of the whole, small, table); one evaluation per MartCheck."""
    evaluations = []
    for table in dict.fromkeys(check.table for check in MART_CHECKS):
        checks = [
            check
            for check in MART_CHECKS
            if check.table == table and (only is None or (f"marts/{table}", check.name) in only)
        ]
        if not checks:
            continue
        try:
            frame = con.execute(f"select * from marts.{table}").df()
        except duckdb.Error as error:
            evaluations += [
                _failed_to_run(
                    f"marts/{table}", c.name, "great_expectations", c.severity, c.description, error
                )
                for c in checks
            ]
            continue
        outcomes = gx.validate(frame, [x for check in checks for x in check.expectations()])
        for check in checks:
            failed = [o for o in outcomes if o.check_name == check.name and not o.success]
            index = sorted({i for o in failed for i in o.unexpected_index})
            rows = (
                _rows_named(frame, index, check.columns)
                if check.kind != "unique"
                else _rows_named(frame, index, ())
            )
            errors = [o.error for o in failed if o.error]
            years = sorted({r["year"] for r in rows if r.get("year") is not None})
            if failed and not index:
                years = []  # a failure without offending rows (an error in the check) concerns no year in particular
            evaluations.append({
                "asset": f"marts/{table}", "check_name": check.name, "engine": "great_expectations",
                "severity": check.severity, "passed": not failed, "description": check.description,
                "details": gx.to_json({"count": len(rows), "rows": rows[:MAX_LISTED], **({"errors": errors} if errors else {})}),
                "years": years,
            })  # fmt: skip
    return evaluations


# --- the SQL checks: sql/checks/<check_name>.sql returns the offending rows (none = passed) --------------


@dataclass(frozen=True)
class SqlCheck:
    name: str
    asset: str  # 'layer/table'
    severity: str
    description: str
    path: Path


def sql_checks() -> list[SqlCheck]:
    found = []
    for path in sorted(CHECKS_DIR.glob("*.sql")):
        header = dict(
            re.findall(r"^-- (asset|severity|description): (.+)$", path.read_text(encoding="utf-8"), re.M)
        )
        found.append(SqlCheck(path.stem, header["asset"].strip().replace(".", "/"), header["severity"].strip(),
                              header["description"].strip(), path))  # fmt: skip
    return found


def run_sql_checks(con: duckdb.DuckDBPyConnection, only: Selection = None) -> list[dict]:
    evaluations = []
    for check in sql_checks():
        if only is not None and (check.asset, check.name) not in only:
            continue
        query = re.sub(r"--[^\n]*", "", check.path.read_text(encoding="utf-8")).strip().rstrip(";")
        try:
            cursor = con.execute(f"select * from ({query}) limit {MAX_LISTED + 1}")
        except duckdb.Error as error:
            evaluations.append(
                _failed_to_run(check.asset, check.name, "sql", check.severity, check.description, error)
            )
            continue
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, (gx.plain(v) for v in row), strict=True)) for row in cursor.fetchall()]
        count = len(rows)
        years: set[int] = set()
        for row in rows:
            if row.get("year") is not None:
                years.add(int(row["year"]))
            years.update(int(y) for y in row.get("years") or [])
        if count > MAX_LISTED:  # more failing rows than listed: count them all, and take every row's years
            count = int(con.execute(f"select count(*) from ({query})").fetchone()[0])  # type: ignore[index]
            year_columns = [f"[{c}]" if c == "year" else c for c in columns if c in ("year", "years")]
            for column in year_columns:
                years.update(
                    int(y)
                    for (y,) in con.execute(
                        f"select distinct unnest({column}) from ({query}) where {column} is not null"
                    ).fetchall()
                    if y is not None
                )
        evaluations.append({
            "asset": check.asset, "check_name": check.name, "engine": "sql", "severity": check.severity,
            "passed": count == 0, "description": check.description,
            "details": gx.to_json({"count": count, "rows": rows[:MAX_LISTED]}), "years": sorted(years),
        })  # fmt: skip
    return evaluations


# --- the file expectations, summarised over the files delivered now --------------------------------------

FILE_ASSETS = {"invoices": "ingest/invoice_lines", "orders": "ingest/order_lines"}


def file_check_summaries(con: duckdb.DuckDBPyConnection, only: Selection = None) -> list[dict]:
    """One evaluation per file check and kind: passed when every delivered file passed; failing files named.

    A failed ERROR file check has kept those files out already; it concerns no year of the publication.
    """
    con.execute("""
        create table if not exists ingest.file_checks (
            file_id varchar, check_name varchar, severity varchar, passed boolean, description varchar,
            details varchar, evaluated_at timestamp)
    """)
    evaluations = []
    for kind, asset in FILE_ASSETS.items():
        results = con.execute(
            """
            select c.check_name, count(*) as files,
                   list({'source_file': d.source_file, 'kommunekode': d.folder_kommunekode, 'kept_out': f.status = 'rejected',
                         'details': c.details} order by d.source_file) filter (where not c.passed) as failing
            from ingest.file_checks c
            join ingest.files f using (file_id)
            join (select file_id, min(source_file) as source_file, any_value(folder_kommunekode) as folder_kommunekode
                  from ingest.deliveries group by file_id) d using (file_id)
            where f.kind = ?
            group by c.check_name
            """,
            [kind],
        ).fetchall()
        by_name = {name: (files, failing or []) for name, files, failing in results}
        for check in checks_for(kind):
            if only is not None and (asset, check.name) not in only:
                continue
            files, failing = by_name.get(check.name, (0, []))
            listed = [{**f, "details": json.loads(f["details"] or "{}")} for f in failing[:MAX_LISTED]]
            evaluations.append({
                "asset": asset, "check_name": check.name, "engine": "great_expectations", "severity": check.severity,
                "passed": not failing, "description": check.description,
                "details": gx.to_json({"files_evaluated": files, "count": len(failing), "files": listed}),
                "years": [],
            })  # fmt: skip
    return evaluations


def all_check_names() -> list[tuple[str, str, str, str]]:
    """(asset 'layer/table', check_name, severity, description) of every check, known before anything runs."""
    names = [
        (FILE_ASSETS[kind], c.name, c.severity, c.description)
        for kind in FILE_ASSETS
        for c in checks_for(kind)
    ]
    names += [(f"marts/{c.table}", c.name, c.severity, c.description) for c in MART_CHECKS]
    names += [(c.asset, c.name, c.severity, c.description) for c in sql_checks()]
    return names
