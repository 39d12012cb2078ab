"""Loading of delivered e-invoices, credit notes and e-orders (OIOUBL / Peppol XML) into the ingest tables.

Each document is parsed once (lxml, a pool of processes) into the same canonical text rows as a CSV extract,
then typed by the same ingest SQL. A batch of documents and its ingest.files rows commit together, after the
file expectations (assets/quality/files.py) ran on the batch: a document failing an ERROR expectation is
registered as refused with the check's reason and none of its lines stay.
"""

import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import duckdb
import pyarrow as pa

from assets.loading import TARGET_TABLE, FileRecord, _parse_query, register_files, unknown_folder_reason
from assets.readers.layouts import canonical_columns
from assets.readers.ubl import UblError, invoice_line_rows, order_line_rows, parse_files
from pipelines.settings import DataDir

BATCH_DOCUMENTS = 20_000


def _arrow_rows(kind: str, rows: list[dict]) -> pa.Table:
    fields = [("file_key", pa.int32()), ("record_number", pa.int64()), ("folder_kommunekode", pa.string())]
    fields += [(c, pa.string()) for c in canonical_columns(kind)]
    fields += [("leverandoer_cvrs", pa.list_(pa.string()))]
    schema = pa.schema(fields)
    return pa.table({name: [row.get(name) for row in rows] for name in schema.names}, schema=schema)


def _insert(con: duckdb.DuckDBPyConnection, kind: str, rows: list[dict]) -> None:
    if not rows:
        return
    con.register("xml_rows", _arrow_rows(kind, rows))
    try:
        columns = ", ".join(canonical_columns(kind))
        landed = (
            "select file_key, record_number, 'xml' as source_format, folder_kommunekode, "
            f"{columns}, leverandoer_cvrs, cast(null as varchar[]) as raw_cells, "
            "cast(null as varchar) as raw_delimiter from xml_rows"
        )
        con.execute(f"insert into ingest.{TARGET_TABLE[kind]} {_parse_query(kind, landed)}")
    finally:
        con.unregister("xml_rows")


def _apply_file_checks(con: duckdb.DuckDBPyConnection, registrations: list[tuple]) -> tuple[list[tuple], int]:
    """Validate the batch's loaded documents (one GX run per kind); refused ones are registered as rejected."""
    from assets.quality import files as file_checks

    refusals: dict[str, str] = {}
    for kind in TARGET_TABLE:
        file_ids = [r[0] for r in registrations if r[2] == kind and r[5] == "loaded"]
        if file_ids:
            verdicts = file_checks.validate_files(con, kind, file_ids)
            for file_id in file_checks.record_verdicts(con, kind, verdicts):
                refusals[file_id] = verdicts[file_id].refusal or "kept out by a data-quality check"
    if not refusals:
        return registrations, 0
    adjusted = [
        (file_id, key, kind, source, kommune, "rejected", refusals[file_id], 0)
        if file_id in refusals
        else row
        for row in registrations
        for file_id, key, kind, source, kommune, *_ in [row]
    ]
    return adjusted, len(refusals)


def load_xml_files(
    con: duckdb.DuckDBPyConnection,
    data_dir: DataDir,
    batch: list[tuple[str, int, str, str | None]],
    log: Callable[[str], None],
) -> tuple[int, int]:
    """Parse and load (file_id, file_key, source_file, folder kommunekode) documents; (loaded, refused)."""
    loaded = refused = 0
    started = time.perf_counter()
    for start in range(0, len(batch), BATCH_DOCUMENTS):
        chunk = batch[start : start + BATCH_DOCUMENTS]
        log(f"XML documents {start + 1}-{start + len(chunk)} of {len(batch)} ...")
        times = {"parse": time.perf_counter()}
        by_path = {
            data_dir.raw / source: (file_id, key, source, kommune) for file_id, key, source, kommune in chunk
        }
        rows: dict[str, list[dict]] = {"invoices": [], "orders": []}
        registrations = []
        # forkserver: the workers start from a small clean process. A fork of this one would share its GBs of
        # Python objects and DuckDB buffers copy-on-write with every worker, and it runs threads (DuckDB, GX).
        for path, digest, result in parse_files(list(by_path), processes=2, mp_context="forkserver"):
            file_id, key, source, kommune = by_path[Path(path)]
            if digest != file_id:
                continue  # changed since it was scanned: the next run sees the new content
            if kommune is None:
                registrations.append(
                    (file_id, key, "ubl", source, None, "rejected", unknown_folder_reason(source), 0)
                )
                refused += 1
            elif isinstance(result, UblError):
                registrations.append((file_id, key, "ubl", source, kommune, "rejected", result.reason, 0))
                refused += 1
            else:
                kind = "orders" if result.document_type == "order" else "invoices"
                reader = order_line_rows if kind == "orders" else invoice_line_rows
                document_rows = reader(result, file_id)
                for row in document_rows:
                    row["file_key"] = key
                    row["folder_kommunekode"] = kommune
                rows[kind].extend(document_rows)
                registrations.append(
                    (file_id, key, kind, source, kommune, "loaded", None, len(document_rows))
                )
                loaded += 1
        times["insert"] = time.perf_counter()
        con.execute("begin")
        try:
            for kind, kind_rows in rows.items():
                _insert(con, kind, kind_rows)
            times["checks"] = time.perf_counter()
            registrations, kept_out = _apply_file_checks(con, registrations)
            loaded -= kept_out
            refused += kept_out
            times["commit"] = time.perf_counter()
            register_files(con, [
                FileRecord(file_id, key, kind, "xml", source, kommune, status, reason, None, rows_read)
                for file_id, key, kind, source, kommune, status, reason, rows_read in registrations
            ])  # fmt: skip
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        now = time.perf_counter()
        done = start + len(chunk)
        rate = done / max(now - started, 1e-6)
        marks = [*times.items(), ("end", now)]
        spent = ", ".join(f"{step} {later - at:.1f} s" for (step, at), (_, later) in pairwise(marks))
        log(
            f"XML documents {done:,} of {len(batch):,} ({rate:,.0f} a second, ETA {(len(batch) - done) / rate:.0f} s; "
            f"this batch: {spent})"
        )
    return loaded, refused
