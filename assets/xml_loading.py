"""Loading of delivered e-invoices, credit notes and e-orders (OIOUBL / Peppol XML) into the ingest tables.

Each document is parsed once (lxml, a pool of processes) into the same canonical text rows as a CSV extract,
then typed by the same ingest SQL. A batch of documents and its ingest.files rows commit together, after the
file expectations (assets/quality/files.py) ran on the batch: a document failing an ERROR expectation is
registered as refused with the check's reason and none of its lines stay.
"""

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

import duckdb
import pyarrow as pa

from assets.loading import TARGET_TABLE, FileRecord, _parse_query, register_files, unknown_folder_reason
from assets.readers.layouts import canonical_columns
from assets.readers.ubl import UblError, invoice_line_rows, order_line_rows, parse_files
from pipelines import progress
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


def _apply_file_checks(con: duckdb.DuckDBPyConnection, registrations: list[tuple]) -> int:
    """Validate the batch's loaded documents (one GX run per kind); the refused ones are marked rejected with
    the check's reason (`record_verdicts`). Returns how many were refused. Their ingest.files rows must be
    registered already: the checks find a document's rows through its file_key there."""
    from assets.quality import files as file_checks

    refused = 0
    for kind in TARGET_TABLE:
        file_ids = [r[0] for r in registrations if r[2] == kind and r[5] == "loaded"]
        if file_ids:
            verdicts = file_checks.validate_files(con, kind, file_ids)
            refused += len(file_checks.record_verdicts(con, kind, verdicts))
    return refused


def _commit_batch(
    con: duckdb.DuckDBPyConnection, rows: dict[str, list[dict]], registrations: list[tuple]
) -> tuple[int, dict[str, float]]:
    """Insert a batch's rows, check them and register its documents in one transaction on a cursor of its own;
    (documents kept out by a check, seconds per step)."""
    times = {"insert": time.perf_counter()}
    with con.cursor() as cursor:
        cursor.execute("begin")
        try:
            for kind, kind_rows in rows.items():
                _insert(cursor, kind, kind_rows)
            register_files(cursor, [
                FileRecord(file_id, key, kind, "xml", source, kommune, status, reason, None, rows_read)
                for file_id, key, kind, source, kommune, status, reason, rows_read in registrations
            ])  # fmt: skip
            times["checks"] = time.perf_counter()
            kept_out = _apply_file_checks(cursor, registrations)
            times["commit"] = time.perf_counter()
            cursor.execute("commit")
        except BaseException:
            cursor.execute("rollback")
            raise
    marks = [*times.items(), ("end", time.perf_counter())]
    return kept_out, {step: later - at for (step, at), (_, later) in pairwise(marks)}


def load_xml_files(
    con: duckdb.DuckDBPyConnection,
    data_dir: DataDir,
    batch: list[tuple[str, str, int, str, str | None]],
    log: Callable[[str], None],
) -> tuple[int, int]:
    """Parse and load (file_id, content_hash, file_key, source_file, folder kommunekode) documents; (loaded,
    refused).

    One pool of worker processes parses every document. Each BATCH_DOCUMENTS documents are committed in a
    thread while the workers parse the next ones. One after the other, the workers idled during every insert,
    check and commit: the 44,282 documents of scale 1 took 19.7-21.0 s, now 16.8-17.9 s."""
    loaded = refused = 0
    started = time.perf_counter()
    by_path = {
        data_dir.raw / source: (file_id, content_hash, key, source, kommune)
        for file_id, content_hash, key, source, kommune in batch
    }
    log(f"XML documents: parsing {len(batch):,} in 2 processes ...")
    with ThreadPoolExecutor(max_workers=1) as committer:
        committing: Future[tuple[int, dict[str, float]]] | None = None
        done = parsed = 0

        def show_parsed() -> bool:
            """The live bar of `ehandel run` on a terminal (False when there is none)."""
            rate = parsed / max(time.perf_counter() - started, 1e-6)
            return progress.show(
                "XML documents", parsed, len(batch), f"{parsed:,}/{len(batch):,}, {rate:,.0f} a second"
            )

        def wait_for_commit() -> None:
            """Collect the batch in the committer (if any): its refusals and a progress line."""
            nonlocal committing, loaded, refused
            if committing is None:
                return
            kept_out, spent = committing.result()
            committing = None
            loaded -= kept_out
            refused += kept_out
            rate = done / max(time.perf_counter() - started, 1e-6)
            if not show_parsed():
                log(
                    f"XML documents {done:,} of {len(batch):,} ({rate:,.0f} a second, "
                    f"ETA {(len(batch) - done) / rate:.0f} s; this batch: "
                    + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in spent.items())
                    + ")"
                )

        rows: dict[str, list[dict]] = {"invoices": [], "orders": []}
        registrations: list[tuple] = []
        # forkserver: the workers start from a small clean process. A fork of this one would share its GBs of
        # Python objects and DuckDB buffers copy-on-write with every worker, and it runs threads (DuckDB, GX).
        for seen, (path, digest, result) in enumerate(
            parse_files(list(by_path), processes=2, mp_context="forkserver"), start=1
        ):
            file_id, content_hash, key, source, kommune = by_path[Path(path)]
            if digest != content_hash:
                pass  # changed since it was scanned: the next run sees the new content
            elif kommune is None:
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
            if committing is not None and committing.done():
                wait_for_commit()
            parsed = seen
            if seen % 250 == 0:
                show_parsed()
            if seen % BATCH_DOCUMENTS == 0 or seen == len(batch):
                wait_for_commit()  # commits stay in order, one at a time
                done = seen
                committing = committer.submit(_commit_batch, con, rows, registrations)
                rows, registrations = {"invoices": [], "orders": []}, []
        wait_for_commit()
    return loaded, refused
