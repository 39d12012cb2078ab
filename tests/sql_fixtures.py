"""Hand-made staging and reference tables for testing sql/intermediate and sql/marts alone.

The staging tables are created with exactly the columns and types of docs/staging_contract.md; a test gives
only the columns that matter to it and the helper fills the rest the way staging would (year from the date,
supplier_cvrs from supplier_cvr, order_number_norm through the project's own macro, ...).
"""

import datetime as dt
import zlib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import duckdb

from pipelines.warehouse import (
    load_static_reference,
    materialise_sql,
    ordered_sql_files,
    sql_dependencies,
    sql_table_name,
)

INVOICE_LINE_COLUMNS: dict[str, str] = {
    "file_id": "varchar",
    "file_key": "integer",
    "record_number": "bigint",
    "source_format": "varchar",
    "source_file": "varchar",
    "delivered_at": "timestamp",
    "kommunekode": "varchar",
    "document_type": "varchar",
    "document_number": "varchar",
    "issue_date": "date",
    "year": "integer",
    "supplier_cvr": "varchar",
    "supplier_cvrs": "varchar[]",
    "supplier_name": "varchar",
    "buyer_gln": "varchar",
    "order_number": "varchar",
    "order_number_norm": "varchar",
    "credited_document_number": "varchar",
    "line_id": "varchar",
    "description": "varchar",
    "unspsc": "varchar",
    "unspsc_segment": "varchar",
    "art": "varchar",
    "amount_kr": "decimal(18, 2)",
    "currency": "varchar",
}

ORDER_LINE_COLUMNS: dict[str, str] = {
    "file_id": "varchar",
    "file_key": "integer",
    "record_number": "bigint",
    "source_format": "varchar",
    "source_file": "varchar",
    "delivered_at": "timestamp",
    "kommunekode": "varchar",
    "order_number": "varchar",
    "order_number_norm": "varchar",
    "order_line_id": "varchar",
    "order_date": "date",
    "year": "integer",
    "supplier_cvr": "varchar",
    "supplier_cvrs": "varchar[]",
    "supplier_name": "varchar",
    "item_number": "varchar",
    "description": "varchar",
    "unspsc": "varchar",
    "quantity": "decimal(18, 3)",
    "amount_kr": "decimal(18, 2)",
    "order_type": "varchar",
    "agreement_number": "varchar",
}

DELIVERED_REFERENCE_DDL = (
    "create or replace table reference.leverandoerer (cvr varchar, navn varchar, branchekode varchar)",
    "create or replace table reference.aftaler (aftalenummer varchar, navn varchar, indkoebskategori varchar, "
    "leverandoer_cvr varchar, gyldig_fra date, gyldig_til date)",
)

_DEFAULT_DELIVERY = dt.datetime(2022, 2, 1, 12, 0)


def create_warehouse_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Empty staging tables with the contract's schema, and every reference table (static ones loaded)."""
    for table, columns in (
        ("stg_invoice_lines", INVOICE_LINE_COLUMNS),
        ("stg_order_lines", ORDER_LINE_COLUMNS),
    ):
        ddl = ", ".join(f"{name} {kind}" for name, kind in columns.items())
        con.execute(f"create or replace table staging.{table} ({ddl})")
    load_static_reference(con)
    for statement in DELIVERED_REFERENCE_DDL:
        con.execute(statement)


def build_marts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Materialise sql/intermediate and sql/marts on the hand-made staging tables.

    Tables that read the ingest layer (the lead's ingest log and quarantine marts) are skipped, and so is
    anything built on them: these tests give the staging tables only.
    """
    for table in ("stg_invoice_lines", "stg_order_lines"):
        mixed = con.execute(
            f"select file_id from staging.{table} group by file_id having count(distinct kommunekode) > 1"
        ).fetchall()
        assert not mixed, (
            f"{mixed}: a content's lines share one kommunekode, its folder's (docs/staging_contract.md)"
        )
    # the contents of the hand-made lines are the current ones (the per-file tables are kept against them)
    con.execute("""
        create or replace table staging.stg_files as
        select any_value(file_key) as file_key, file_id, 'invoices' as kind, any_value(source_format) as source_format,
               any_value(kommunekode) as kommunekode, any_value(source_file) as source_file,
               max(delivered_at) as delivered_at
        from staging.stg_invoice_lines group by file_id
        union all
        select any_value(file_key), file_id, 'orders', any_value(source_format), any_value(kommunekode),
               any_value(source_file), max(delivered_at)
        from staging.stg_order_lines group by file_id
    """)
    skipped: set[tuple[str, str]] = set()
    counts = {}
    for path in ordered_sql_files(("intermediate", "marts")):
        dependencies = sql_dependencies(path)
        if any(schema == "ingest" for schema, _ in dependencies) or dependencies & skipped:
            skipped.add(sql_table_name(path))
            continue
        counts[".".join(sql_table_name(path))] = materialise_sql(con, path)
    return counts


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _normalise_order_number(con: duckdb.DuckDBPyConnection, raw: str | None) -> str | None:
    row = con.execute("select normalise_order_number(?)", [raw]).fetchone()
    return row[0] if row else None


def _complete_common(con: duckdb.DuckDBPyConnection, row: dict[str, Any], position: int, kind: str) -> None:
    row.setdefault("source_format", "csv")
    row.setdefault("file_id", f"{kind}-{row['kommunekode']}-{row['source_format']}")
    row.setdefault("source_file", f"{kind}/{row['kommunekode']}/{row['file_id']}.{row['source_format']}")
    # one per file_id, and the same in every build, as ingest.files keeps it while the content is loaded
    row.setdefault("file_key", zlib.crc32(row["file_id"].encode()) & 0x7FFFFFFF)
    row.setdefault("delivered_at", _DEFAULT_DELIVERY)
    row.setdefault("record_number", position)
    if "supplier_cvrs" not in row:
        row["supplier_cvrs"] = [row["supplier_cvr"]] if row.get("supplier_cvr") else []
    if "order_number_norm" not in row:
        row["order_number_norm"] = _normalise_order_number(con, row.get("order_number"))
    row["amount_kr"] = Decimal(str(row["amount_kr"]))


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: Mapping[str, str], rows: list[dict]) -> None:
    unknown = {name for row in rows for name in row} - set(columns)
    if unknown:
        raise KeyError(f"not columns of staging.{table}: {sorted(unknown)}")
    names = list(columns)
    placeholders = ", ".join("?" for _ in names)
    con.executemany(
        f"insert into staging.{table} ({', '.join(names)}) values ({placeholders})",
        [[row.get(name) for name in names] for row in rows],
    )


def insert_invoice_lines(con: duckdb.DuckDBPyConnection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Rows need kommunekode, document_number, issue_date, supplier_cvr, line_id, amount_kr (staging's sign:
    credit-note lines negative); document_type defaults to 'invoice'."""
    completed = []
    for position, given in enumerate(rows, start=1):
        row = dict(given)
        row.setdefault("document_type", "invoice")
        row["issue_date"] = _as_date(row["issue_date"])
        row.setdefault("year", row["issue_date"].year)
        row.setdefault("currency", "DKK")
        if row.get("unspsc") and "unspsc_segment" not in row:
            row["unspsc_segment"] = str(row["unspsc"])[:2]
        _complete_common(con, row, position, "invoices")
        completed.append(row)
    _insert(con, "stg_invoice_lines", INVOICE_LINE_COLUMNS, completed)


def insert_order_lines(con: duckdb.DuckDBPyConnection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Rows need kommunekode, order_number, order_line_id, order_date, supplier_cvr (None: an order naming no
    CVR), amount_kr; order_type defaults to 'katalog'."""
    completed = []
    for position, given in enumerate(rows, start=1):
        row = dict(given)
        row["order_date"] = _as_date(row["order_date"])
        row.setdefault("year", row["order_date"].year)
        row.setdefault("order_type", "katalog")
        _complete_common(con, row, position, "orders")
        completed.append(row)
    _insert(con, "stg_order_lines", ORDER_LINE_COLUMNS, completed)


def insert_suppliers(con: duckdb.DuckDBPyConnection, rows: Iterable[tuple[str, str, str]]) -> None:
    """(cvr, navn, branchekode) rows of reference.leverandoerer."""
    con.executemany("insert into reference.leverandoerer values (?, ?, ?)", [list(r) for r in rows])


def insert_agreements(con: duckdb.DuckDBPyConnection, rows: Iterable[tuple]) -> None:
    """(aftalenummer, navn, indkoebskategori, leverandoer_cvr, gyldig_fra, gyldig_til) rows of reference.aftaler."""
    con.executemany("insert into reference.aftaler values (?, ?, ?, ?, ?, ?)", [list(r) for r in rows])


def fetch_dicts(
    con: duckdb.DuckDBPyConnection, query: str, params: list | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(query, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
