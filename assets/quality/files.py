"""The expectations every delivered file must meet as it is loaded (Great Expectations, severity per check).

Bounded by the new data only: GX validates a *value profile* of the files just loaded, built by DuckDB in one
pass over their typed, accepted rows in ingest.<kind>_rows (the files' key range): one row per distinct date,
CVR, document / order type, one row per file (its extreme amounts, missing required values, municipality)
and one row per file and year (the year's share of the file's lines). Value-set, range and format
expectations hold on the rows exactly when they hold on that profile, and the profile has thousands of rows
where a file has millions. One GX run per kind and batch of files (GX costs ~0.1 s a run, whatever the size).

A failed ERROR expectation keeps the file out (`record_verdicts`: its rows are deleted, ingest.files says
'rejected' with the reason naming the check, so the file is one whole-file row of the quarantine). WARN
expectations are recorded and published, the file is kept. Every evaluation is kept in ingest.file_checks.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb

from assets.loading import TARGET_TABLE, delete_loaded_rows
from assets.quality import gx

ERROR, WARN = "ERROR", "WARN"
# The plausible dates (MIN_DATE to the day of loading) and line amounts: copies of the macros plausible_min_date(),
# load_date() and max_line_amount_kr() of sql/macros.sql, which are authoritative (the ingest SQL rejects a row
# outside them with its reason; tests/test_row_plausibility.py holds these equal to them). Here they only guard
# against what the typing might let through.
MIN_DATE = date(2000, 1, 1)
MAX_LINE_AMOUNT_KR = 1_000_000_000  # a single line beyond 1 mia. kr. is a misread amount, not a purchase
MIN_YEAR_SHARE = 0.01  # a year with under 1% of a file's lines is a stray date, not a period the file covers

DATE_COLUMN = {"invoices": "issue_date", "orders": "order_date"}
TYPE_COLUMN = {"invoices": "document_type", "orders": "order_type"}
TYPE_VALUES = {
    "invoices": ["invoice", "credit_note"],
    "orders": ["katalog", "punchout", "fritekst", "e-ordre"],
}
# Typed columns that every accepted line must have (an XML order may name no CVR: METHODS 5).
REQUIRED = {
    "invoices": ["document_number", "document_type", "issue_date", "supplier_cvr", "line_id", "amount_kr"],
    "orders": ["order_number_norm", "order_line_id", "order_date", "amount_kr"],
}


@dataclass(frozen=True)
class FileCheck:
    name: str
    severity: str
    description: str  # Danish, for the quality page


FILE_CHECKS = {
    "file_required_values": FileCheck(
        "file_required_values",
        ERROR,
        "Hver anvendt linje har alle påkrævede felter udfyldt (bl.a. nummer, dato, CVR, linjenummer og beløb).",
    ),
    "file_types_after_parsing": FileCheck(
        "file_types_after_parsing",
        ERROR,
        "Felterne har den rigtige type efter indlæsning: datoer som datoer, beløb og år som tal, CVR og "
        "kommunekode som tekst.",
    ),
    "file_document_types": FileCheck(
        "file_document_types", ERROR, "Dokumenttypen er faktura eller kreditnota (fakturafiler)."
    ),
    "file_order_types": FileCheck(
        "file_order_types", ERROR, "Ordretypen er katalog, punchout, fritekst eller e-ordre (ordrefiler)."
    ),
    "file_dates_plausible": FileCheck(
        "file_dates_plausible",
        ERROR,
        "Alle datoer ligger fra 1. januar 2000 til indlæsningsdagen: ingen datoer i fremtiden eller før 2000.",
    ),
    "file_amounts_plausible": FileCheck(
        "file_amounts_plausible", ERROR, "Ingen linje har et beløb over 1 mia. kr. (positivt eller negativt)."
    ),
    "file_cvr_format": FileCheck("file_cvr_format", ERROR, "Leverandørens CVR-nummer består af 8 cifre."),
    "file_kommunekode_format": FileCheck(
        "file_kommunekode_format", ERROR, "Kommunekoden består af 4 cifre og er en kendt kommune."
    ),
    "file_dates_in_main_years": FileCheck(
        "file_dates_in_main_years",
        WARN,
        "Filens linjer ligger i de år, filen overvejende dækker: et år med under 1 % af filens linjer nævnes "
        "(enkeltstående linjer med et forkert år).",
    ),
}


def checks_for(kind: str) -> list[FileCheck]:
    skip = "file_order_types" if kind == "invoices" else "file_document_types"
    return [check for name, check in FILE_CHECKS.items() if name != skip]


@dataclass
class FileVerdict:
    file_id: str
    evaluations: list[dict] = field(
        default_factory=list
    )  # check_name, severity, passed, description, details
    refusal: str | None = None  # the reason in words when an ERROR check failed


def ensure_file_checks_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create table if not exists ingest.file_checks (
            file_id varchar, check_name varchar, severity varchar, passed boolean, description varchar,
            details varchar, evaluated_at timestamp)
    """)


def profile(con: duckdb.DuckDBPyConnection, kind: str, file_ids: list[str]):
    """The value profile of the files' accepted rows (see the module docstring), as a pandas frame."""
    table, date_column, type_column = TARGET_TABLE[kind], DATE_COLUMN[kind], TYPE_COLUMN[kind]
    missing = " or ".join(f"{column} is null" for column in REQUIRED[kind])
    # Column names are fixed identifiers from this module; values are bound.
    return con.execute(
        f"""
        with keys as (
            select file_id, file_key from ingest.files where file_id in (select unnest($file_ids::varchar[]))
        ),
        lines as (
            select keys.file_id, kommunekode, {type_column} as type_value, {date_column} as line_date,
                   cast(year({date_column}) as integer) as year, supplier_cvr, amount_kr,
                   ({missing}) as misses_required
            from ingest.{table} join keys using (file_key)
            -- keys grow with load order: the zone maps skip the row groups of earlier loads
            where file_key between (select min(file_key) from keys) and (select max(file_key) from keys)
                and reject_reason is null
        ),
        per_file as (
            select [file_id] as file_ids, 'file' as profile, count(*) as lines, any_value(kommunekode) as kommunekode,
                   min(amount_kr) as min_amount_kr, max(amount_kr) as max_amount_kr,
                   count(*) filter (where misses_required) as lines_missing_required
            from lines group by file_id
        ),
        per_file_year as (
            select [file_id] as file_ids, year, count(*) as lines,
                   count(*) / sum(count(*)) over (partition by file_id) as year_line_share
            from lines group by file_id, year
        ),
        per_type as (select list(distinct file_id) as file_ids, type_value, count(*) as lines from lines group by type_value),
        per_date as (select list(distinct file_id) as file_ids, line_date, count(*) as lines from lines group by line_date),
        per_cvr as (
            select list(distinct file_id) as file_ids, supplier_cvr, count(*) as lines
            from lines where supplier_cvr is not null group by supplier_cvr
        )
        select * from per_file
        union all by name select *, 'file_year' as profile from per_file_year
        union all by name select *, 'type' as profile from per_type
        union all by name select *, 'date' as profile from per_date
        union all by name select *, 'cvr' as profile from per_cvr
        """,
        {"file_ids": file_ids},
    ).df()


# "<profile column>:<pandas dtype>" as DuckDB's typed columns arrive in pandas
EXPECTED_DTYPES = [
    *(f"line_date:datetime64[{unit}]" for unit in ("s", "ms", "us", "ns")),
    "min_amount_kr:float64", "max_amount_kr:float64", "supplier_cvr:str", "kommunekode:str", "type_value:str",
    "year:Int32", "year:int32",
]  # fmt: skip


def _with_dtypes(frame):
    """Append one row per checked column naming its dtype (`column_dtype`), for file_types_after_parsing."""
    import pandas as pd

    columns = [
        "line_date",
        "min_amount_kr",
        "max_amount_kr",
        "supplier_cvr",
        "kommunekode",
        "type_value",
        "year",
    ]
    # an all-null column (an XML order naming no CVR) has no type to check
    columns = [c for c in columns if frame[c].notna().any()]
    dtypes = pd.DataFrame({
        "profile": "dtype", "column_dtype": [f"{c}:{frame[c].dtype}" for c in columns],
        "file_ids": [[] for _ in columns], "lines": 0,
    })  # fmt: skip
    return pd.concat([frame, dtypes], ignore_index=True)


def _expectations(kind: str, today: date, kommunekoder: list[str]) -> list:
    e = gx.expectations()
    meta = lambda name: {"check": name}  # noqa: E731
    items = [
        e.ExpectColumnValuesToBeBetween(column="lines_missing_required", max_value=0, meta=meta("file_required_values")),
        # GX's type expectations do not know pandas 3's extension dtypes: the dtypes are validated as values
        e.ExpectColumnValuesToBeInSet(column="column_dtype", value_set=EXPECTED_DTYPES, meta=meta("file_types_after_parsing")),
        e.ExpectColumnValuesToBeInSet(
            column="type_value", value_set=TYPE_VALUES[kind],
            meta=meta("file_document_types" if kind == "invoices" else "file_order_types"),
        ),
        e.ExpectColumnValuesToBeBetween(
            column="line_date", min_value=datetime.combine(MIN_DATE, datetime.min.time()),
            max_value=datetime.combine(today, datetime.min.time()), meta=meta("file_dates_plausible"),
        ),
        e.ExpectColumnValuesToBeBetween(column="min_amount_kr", min_value=-MAX_LINE_AMOUNT_KR, meta=meta("file_amounts_plausible")),
        e.ExpectColumnValuesToBeBetween(column="max_amount_kr", max_value=MAX_LINE_AMOUNT_KR, meta=meta("file_amounts_plausible")),
        e.ExpectColumnValuesToMatchRegex(column="supplier_cvr", regex=r"^\d{8}$", meta=meta("file_cvr_format")),
        e.ExpectColumnValuesToMatchRegex(column="kommunekode", regex=r"^\d{4}$", meta=meta("file_kommunekode_format")),
        e.ExpectColumnValuesToBeInSet(column="kommunekode", value_set=kommunekoder, meta=meta("file_kommunekode_format")),
        e.ExpectColumnValuesToBeBetween(column="year_line_share", min_value=MIN_YEAR_SHARE, meta=meta("file_dates_in_main_years")),
    ]  # fmt: skip
    return items


VALUE_COLUMNS = {  # what names the offending value in a failure's details
    "file_required_values": "lines_missing_required",
    "file_document_types": "type_value",
    "file_order_types": "type_value",
    "file_dates_plausible": "line_date",
    "file_amounts_plausible": ("min_amount_kr", "max_amount_kr"),
    "file_cvr_format": "supplier_cvr",
    "file_kommunekode_format": "kommunekode",
    "file_types_after_parsing": "column_dtype",
    "file_dates_in_main_years": ("year", "year_line_share", "lines"),
}


def validate_files(
    con: duckdb.DuckDBPyConnection, kind: str, file_ids: list[str], today: date | None = None
) -> dict[str, FileVerdict]:
    """Run the file expectations on the files' accepted rows; a verdict per file (nothing is changed)."""
    verdicts = {file_id: FileVerdict(file_id) for file_id in file_ids}
    if not file_ids:
        return verdicts
    # the day of loading as the ingest SQL takes it (load_date() of sql/macros.sql)
    day: date = today or con.execute("select load_date()").fetchall()[0][0]
    # The profile finds a file's rows through its ingest.files row: a file not registered yet would have no
    # rows and pass every check unseen (XML documents did, until their registration came first).
    registered = con.execute(
        "select count(*) from ingest.files where file_id in (select unnest(?::varchar[]))", [file_ids]
    ).fetchone()[0]  # type: ignore[index]
    if registered != len(file_ids):
        raise RuntimeError(f"file checks on {len(file_ids) - registered} files not in ingest.files")
    frame = _with_dtypes(profile(con, kind, file_ids))
    kommunekoder = [row[0] for row in con.execute("select kommunekode from reference.kommuner").fetchall()]
    outcomes = gx.validate(frame, _expectations(kind, day, kommunekoder))
    # per check and file: the offending values (a failure with no offending row concerns every file)
    failures: dict[str, dict[str, list]] = {}
    for outcome in outcomes:
        if outcome.success:
            continue
        per_file = failures.setdefault(outcome.check_name, {})
        if not outcome.unexpected_index:
            problem = (
                outcome.error
                or f"{outcome.expectation} on {outcome.column}: observed {gx.plain(outcome.observed)}"
            )
            for file_id in file_ids:
                per_file.setdefault(file_id, []).append(problem)
            continue
        columns = VALUE_COLUMNS.get(outcome.check_name, outcome.column)
        columns = columns if isinstance(columns, tuple) else (columns,)
        rows = frame.loc[outcome.unexpected_index]
        for _, row in rows.iterrows():
            value = {c: gx.plain(row[c]) for c in columns if c in row and gx.plain(row[c]) is not None}
            value["lines"] = gx.plain(row["lines"])
            for file_id in list(row["file_ids"]) or file_ids:  # a dtype row concerns every file
                if file_id in verdicts:
                    per_file.setdefault(file_id, []).append(value)
    for check in checks_for(kind):
        for file_id, verdict in verdicts.items():
            problems = failures.get(check.name, {}).get(file_id, [])
            verdict.evaluations.append({
                "check_name": check.name, "severity": check.severity, "passed": not problems,
                "description": check.description,
                "details": gx.to_json({"values": problems[:20], "more": max(0, len(problems) - 20)}) if problems else "{}",
            })  # fmt: skip
            if problems and check.severity == ERROR and verdict.refusal is None:
                shown = "; ".join(gx.to_json(p) if isinstance(p, dict) else str(p) for p in problems[:3])
                verdict.refusal = (
                    f"kept out by the data-quality check {check.name} ({check.description}): {shown}"
                    + (f" and {len(problems) - 3} more" if len(problems) > 3 else "")
                    + ". Deliver a corrected file."
                )
    return verdicts


def record_verdicts(con: duckdb.DuckDBPyConnection, kind: str, verdicts: dict[str, FileVerdict]) -> list[str]:
    """Store the evaluations; delete the rows of refused files and mark them 'rejected' in ingest.files with
    `verdict.refusal` (their whole-file row of the quarantine). Returns the refused file ids.

    Runs inside the caller's transaction, so a file's rows, its evaluation and its status commit together.
    """
    if not verdicts:
        return []
    ensure_file_checks_table(con)
    file_ids = list(verdicts)
    con.execute("delete from ingest.file_checks where file_id in (select unnest(?::varchar[]))", [file_ids])
    now = datetime.now(UTC)
    evaluations = [(v.file_id, e) for v in verdicts.values() for e in v.evaluations]
    if evaluations:
        import pyarrow as pa

        # one set-based insert: executemany costs ~0.7 ms a row, and a delivery has ~9 rows per file
        table = pa.table({
            "file_id": [file_id for file_id, _ in evaluations],
            **{k: [e[k] for _, e in evaluations] for k in ("check_name", "severity", "passed", "description", "details")},
        })  # fmt: skip
        con.register("new_file_checks", table)
        try:
            con.execute(
                "insert into ingest.file_checks select file_id, check_name, severity, passed, description, details, ? "
                "from new_file_checks",
                [now],
            )
        finally:
            con.unregister("new_file_checks")
    refused = [v.file_id for v in verdicts.values() if v.refusal]
    if refused:
        # the file goes to the quarantine whole: no row of it stays, not even its unreadable records
        delete_loaded_rows(con, refused)
        con.execute(
            "update ingest.files set status = 'rejected', reason = refusal.reason, rows_read = 0 "
            "from (select unnest(?::varchar[]) as file_id, unnest(?::varchar[]) as reason) as refusal "
            "where ingest.files.file_id = refusal.file_id",
            [refused, [verdicts[file_id].refusal for file_id in refused]],
        )
    return refused
