"""Incremental loading of DIR/raw into the warehouse's `ingest` schema.

A delivered file is identified by its content and where it was delivered: `file_id` is the sha256 of the content's
sha256 (`content_hash`), its kind of folder and its municipality (METHODS 1: the municipality is the delivery
folder's, so the same bytes in two municipalities' folders are two deliveries). Each run:
1. `scan_deliveries` lists DIR/raw (re-hashing only files whose size, mtime or ctime changed) into ingest.deliveries;
2. `load_new_files` parses every content not loaded before into ingest.invoice_rows / ingest.order_rows (typed
   rows with a reject reason, stored narrow under the content's integer file_key) and registers it in
   ingest.files, or records why the whole file cannot be read; same-layout CSV files are read together by one
   statement, and a batch's rows and its ingest.files rows commit together;
3. `validate_loaded_files` runs the file expectations (assets/quality/files.py, Great Expectations) on the files
   just loaded: a file failing an ERROR expectation is kept out (its rows deleted, ingest.files 'rejected' with
   the check's reason, in one transaction); every evaluation is kept in ingest.file_checks;
4. `forget_withdrawn_files` deletes the rows of contents no longer delivered.
The same content delivered twice in one place, under any name, is parsed once; the later layers count its second
copy's rows as duplicates. ingest.files never lists a file whose rows are not all committed (one transaction per batch).
The views ingest.invoice_lines / ingest.order_lines name the rows by their content's file_id.
"""

import hashlib
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import duckdb
import pyarrow as pa

from assets.readers import csv_files
from assets.readers.layouts import canonical_columns
from pipelines import progress
from pipelines.settings import SQL_DIR, DataDir
from pipelines.warehouse import forget_incremental_contents, forget_incremental_tables, sql_literal

KINDS = ("invoices", "orders", "ubl")
TARGET_TABLE = {"invoices": "invoice_rows", "orders": "order_rows"}
LINES_VIEW = {"invoices": "invoice_lines", "orders": "order_lines"}
# Bump when the ingest tables change shape: a warehouse of another version reloads DIR/raw from scratch.
INGEST_SCHEMA_VERSION = 6
# Files of one layout are read together up to this size. A batch's parallel insert leaves a partly filled row
# group per thread, which the next checkpoint merges by rewriting its neighbours: at 64 MB a national year's CSV
# files cost a 21 s checkpoint, at 256 MB 1.8 s (peak memory of the load 3.2 GB).
BATCH_BYTES = 256 * 2**20
Log = Callable[[str], None]


@dataclass(frozen=True)
class Delivery:
    source_file: str  # relative to DIR/raw, with '/'
    kind: str
    folder: str  # the municipality folder as delivered ('159', '0159', 'abc')
    size_bytes: int
    mtime_ns: int
    # The status-change time: the kernel sets it on every write (and rename); unlike mtime no tool (touch -d,
    # rsync -t, tar, unzip) can set it back, so a file rewritten with its old size and mtime is still seen.
    ctime_ns: int


def ensure_ingest_tables(con: duckdb.DuckDBPyConnection) -> None:
    if _schema_version(con) not in (None, INGEST_SCHEMA_VERSION):
        # The ingest tables are a cache of DIR/raw: an older shape is dropped and everything is read again.
        for name, kind in con.execute(
            "select table_name, table_type from information_schema.tables where table_schema = 'ingest'"
        ).fetchall():
            con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} ingest.{name}")
        forget_incremental_tables(con)  # their rows were computed from the old rows
    con.execute("create table if not exists ingest.schema_version (version integer)")
    con.execute("delete from ingest.schema_version")
    con.execute("insert into ingest.schema_version values (?)", [INGEST_SCHEMA_VERSION])
    con.execute("""
        create table if not exists ingest.deliveries (
            source_file varchar primary key, kind varchar, folder varchar, folder_kommunekode varchar,
            size_bytes bigint, mtime_ns bigint, delivered_at timestamp, content_hash varchar, file_id varchar,
            too_long_line bigint, ctime_ns bigint)
    """)
    # A warehouse from before ctime_ns: its files are hashed once more (same content, same file_id: nothing reloads)
    con.execute("alter table ingest.deliveries add column if not exists ctime_ns bigint")
    con.execute("""
        create table if not exists ingest.files (
            file_id varchar primary key, file_key integer, kind varchar, source_format varchar,
            source_file varchar, folder_kommunekode varchar, status varchar, reason varchar, dialect varchar,
            rows_read bigint, loaded_at timestamp)
    """)
    con.execute("""
        create table if not exists ingest.rejected_records (
            file_id varchar, line_number bigint, reason varchar, raw_record varchar)
    """)
    con.execute("""
        create table if not exists ingest.record_lines (
            file_key integer, record_number bigint, line_number bigint)
    """)
    con.execute("""
        create table if not exists ingest.file_checks (
            file_id varchar, check_name varchar, severity varchar, passed boolean, description varchar,
            details varchar, evaluated_at timestamp)
    """)
    for kind, table in TARGET_TABLE.items():
        con.execute(
            f"create table if not exists ingest.{table} as {_parse_query(kind, _empty_landed_rows(kind))} limit 0"
        )
        date = "issue_date" if kind == "invoices" else "order_date"
        con.execute(f"""
            create or replace view ingest.{LINES_VIEW[kind]} as
            select f.file_id, f.source_format, r.*, cast(year(r.{date}) as integer) as year
            from ingest.{table} r join ingest.files f using (file_key)
        """)


def _schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The ingest schema's version; None for a new warehouse, 1 for one made before versions were kept."""
    tables = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'ingest'"
        ).fetchall()
    }
    if "schema_version" in tables:
        (version,) = con.execute("select max(version) from ingest.schema_version").fetchall()[0]
        return int(version) if version is not None else None
    return 1 if tables else None


def _landed_columns(kind: str) -> list[str]:
    return ["file_key", "record_number", "source_format", "folder_kommunekode", *canonical_columns(kind)]


def _empty_landed_rows(kind: str) -> str:
    types = {"file_key": "integer", "record_number": "bigint"}
    columns = ", ".join(f"cast(null as {types.get(c, 'varchar')}) as {c}" for c in _landed_columns(kind))
    return (
        f"select {columns}, cast(null as varchar[]) as leverandoer_cvrs, cast(null as varchar[]) as raw_cells, "
        "cast(null as varchar) as raw_delimiter"
    )


def _parse_query(kind: str, landed_query: str, before: str = "") -> str:
    """The ingest SQL of `kind` (sql/ingest/<table>.sql) reading from the given landed-rows query; `before`: CTEs
    that the landed-rows query reads ("name as (...), ")."""
    table = TARGET_TABLE[kind]
    body = (SQL_DIR / "ingest" / f"{table}.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("--"))
    assert body.lstrip().lower().startswith("with "), f"sql/ingest/{table}.sql must start with a CTE"
    landed_name = "landed_invoice_rows" if kind == "invoices" else "landed_order_rows"
    return f"with {before}{landed_name} as ({landed_query}),\n{body.lstrip()[5:]}"


def next_file_key(con: duckdb.DuckDBPyConnection) -> int:
    """The next free file_key: keys grow with load order, so a batch's rows are one range of the row tables."""
    return int(con.execute("select coalesce(max(file_key), 0) + 1 from ingest.files").fetchall()[0][0])


# --- 1. scan ---------------------------------------------------------------------------------------------


def list_deliveries(raw: Path) -> list[Delivery]:
    """Every file under raw/<kind>/, in sub-folders too: a file where none belongs (no municipality folder, not
    .xml in ubl/) is listed as well, so that it is refused with its reason instead of being ignored. A symlink
    (file or folder) could bring in anything outside raw/: none is followed, so only real files under raw/ are
    read. One scandir per folder (its entries carry their type, one stat per file): a national year is ~45,000
    files."""
    found = []
    for kind in KINDS:
        base = raw / kind
        if base.is_dir():
            for relative, stat in sorted(_files_in(base), key=lambda item: item[0]):
                folder = relative[0] if len(relative) > 1 else ""  # '' : directly in raw/<kind>/
                found.append(
                    Delivery(
                        "/".join((kind, *relative)),
                        kind,
                        folder,
                        stat.st_size,
                        stat.st_mtime_ns,
                        stat.st_ctime_ns,
                    )
                )
    return found


RAW_FINGERPRINT = "raw_fingerprint"  # metadata of ingest/deliveries: the raw/ that the refresh loaded


def raw_fingerprint(raw: Path, deliveries: list[Delivery]) -> str:
    """A fingerprint of DIR/raw from the deliveries' names, sizes and times and the reference files' (no file is
    read): the raw-folder sensor's cursor, and the ingest's metadata (the state the last refresh loaded)."""
    digest = hashlib.sha256()
    for d in deliveries:
        digest.update(f"{d.source_file}\t{d.size_bytes}\t{d.mtime_ns}\t{d.ctime_ns}\n".encode())
    for reference in sorted((raw / "reference").glob("*.csv")):
        stat = reference.stat()
        digest.update(f"{reference.name}\t{stat.st_size}\t{stat.st_mtime_ns}\t{stat.st_ctime_ns}\n".encode())
    return digest.hexdigest()


def _files_in(folder: Path, inside: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], os.stat_result]]:
    """(path parts below `folder`, stat) of the regular, not hidden files in `folder` and its sub-folders."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from _files_in(Path(entry.path), (*inside, entry.name))
            elif entry.is_file(follow_symlinks=False) and not entry.name.startswith("."):
                yield (*inside, entry.name), entry.stat(follow_symlinks=False)


def digest_file(path: Path, kind: str) -> tuple[str, int | None]:
    """(sha256 of the content, the first line over 2 MB of a CSV file or None): one read of the file."""
    sha = hashlib.sha256()
    lines = csv_files.LineLengthScan() if kind in TARGET_TABLE else None
    with path.open("rb", buffering=0) as handle:
        while chunk := handle.read(csv_files.SCAN_CHUNK):
            sha.update(chunk)  # releases the GIL
            if lines is not None:
                lines.update(chunk)
    too_long_line = None
    if lines is not None and lines.too_long_at is not None:
        too_long_line = csv_files.line_number_at(path, lines.too_long_at)
    return sha.hexdigest(), too_long_line


def scan_deliveries(
    con: duckdb.DuckDBPyConnection, data_dir: DataDir, deliveries: list[Delivery] | None = None
) -> dict[str, int]:
    """Refresh ingest.deliveries from DIR/raw (listed by the caller, or here); hash only what is new or changed
    since the last scan: a file whose name, size, mtime and ctime are all as before has its content as before."""
    ensure_ingest_tables(con)
    if deliveries is None:
        deliveries = list_deliveries(data_dir.raw)
    known = {
        (source, size, mtime, ctime): (content_hash, too_long_line)
        for source, size, mtime, ctime, content_hash, too_long_line in con.execute(
            "select source_file, size_bytes, mtime_ns, ctime_ns, content_hash, too_long_line from ingest.deliveries"
        ).fetchall()
    }

    def stamp(d: Delivery) -> tuple[str, int, int, int]:
        return (d.source_file, d.size_bytes, d.mtime_ns, d.ctime_ns)

    to_hash = [d for d in deliveries if stamp(d) not in known]
    digests: dict[Delivery, tuple[str, int | None]] = {}
    total_bytes, done_bytes = sum(d.size_bytes for d in to_hash), 0
    with ThreadPoolExecutor(max_workers=2) as pool:  # hashlib releases the GIL
        hashed = pool.map(lambda d: digest_file(data_dir.raw / d.source_file, d.kind), to_hash)
        for done, (delivery, digest) in enumerate(zip(to_hash, hashed, strict=True), start=1):
            digests[delivery] = digest
            done_bytes += delivery.size_bytes
            if done % 100 == 0 or done == len(to_hash):
                progress.show("hashing", done_bytes, total_bytes, f"{done:,}/{len(to_hash):,} files")
    digests.update({d: known[stamp(d)] for d in deliveries if d not in digests})
    rows = {
        "source_file": [d.source_file for d in deliveries],
        "kind": [d.kind for d in deliveries],
        "folder": [d.folder for d in deliveries],
        "size_bytes": [d.size_bytes for d in deliveries],
        "mtime_ns": [d.mtime_ns for d in deliveries],
        "ctime_ns": [d.ctime_ns for d in deliveries],
        "content_hash": [digests[d][0] for d in deliveries],
        "too_long_line": [digests[d][1] for d in deliveries],
    }
    scanned = pa.table(
        rows,
        schema=pa.schema([
            ("source_file", pa.string()), ("kind", pa.string()), ("folder", pa.string()),
            ("size_bytes", pa.int64()), ("mtime_ns", pa.int64()), ("ctime_ns", pa.int64()),
            ("content_hash", pa.string()), ("too_long_line", pa.int64()),
        ]),
    )  # fmt: skip
    con.register("scanned_deliveries", scanned)
    try:
        # Only the rows that changed are written: rewriting a national year's 45,000 rows cost 0.3-0.6 s a run.
        con.execute("begin")
        con.execute("""
            create or replace temp table wanted_deliveries as
            select s.source_file, s.kind, s.folder, k.kommunekode as folder_kommunekode, s.size_bytes, s.mtime_ns,
                   make_timestamp(s.mtime_ns // 1000) as delivered_at, s.content_hash,
                   -- the delivery's identity: its content in its place (kind of folder, municipality)
                   sha256(concat_ws('|', s.content_hash, s.kind, coalesce(k.kommunekode, 'folder ' || s.folder)))
                       as file_id,
                   s.too_long_line, s.ctime_ns
            from scanned_deliveries s
            left join reference.kommuner k on k.kommunekode = normalise_kommunekode(s.folder)
        """)
        con.execute("""
            delete from ingest.deliveries d
            where not exists (
                select 1 from wanted_deliveries w
                where w.source_file = d.source_file and w.size_bytes = d.size_bytes and w.mtime_ns = d.mtime_ns
                    and w.ctime_ns is not distinct from d.ctime_ns and w.file_id = d.file_id
            )
        """)
        con.execute("""
            insert into ingest.deliveries by name
            select * from wanted_deliveries
            where source_file not in (select source_file from ingest.deliveries)
        """)
        con.execute("drop table wanted_deliveries")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("scanned_deliveries")
    return {"files": len(deliveries), "hashed": len(to_hash)}


# --- 2. load ---------------------------------------------------------------------------------------------


def pending_files(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str | None, int | None, str]]:
    """(file_id, kind, source_file, folder_kommunekode, too_long_line, content_hash) of each delivery not loaded
    yet (its first copy: the copies of a file_id share their content, kind of folder and municipality)."""
    return con.execute("""
        select file_id, any_value(kind), arg_min(source_file, (mtime_ns, source_file)),
               any_value(folder_kommunekode), any_value(too_long_line), any_value(content_hash)
        from ingest.deliveries
        where file_id not in (select file_id from ingest.files)
        group by file_id
        order by min(source_file)
    """).fetchall()


class FileRecord(NamedTuple):
    """One row of ingest.files: a delivered content, loaded or refused."""

    file_id: str
    file_key: int
    kind: str
    source_format: str
    source_file: str
    folder_kommunekode: str | None
    status: str
    reason: str | None = None
    dialect: dict | None = None
    rows_read: int = 0


def register_files(con: duckdb.DuckDBPyConnection, records: list[FileRecord]) -> None:
    """Insert (or replace) many ingest.files rows in one statement."""
    if not records:
        return
    now = datetime.now(UTC)
    table = pa.table({
        "file_id": [r.file_id for r in records],
        "file_key": pa.array([r.file_key for r in records], pa.int32()),
        "kind": [r.kind for r in records],
        "source_format": [r.source_format for r in records],
        "source_file": [r.source_file for r in records],
        "folder_kommunekode": pa.array([r.folder_kommunekode for r in records], pa.string()),
        "status": [r.status for r in records],
        "reason": pa.array([r.reason for r in records], pa.string()),
        "dialect": pa.array([json.dumps(r.dialect, ensure_ascii=False) if r.dialect else None for r in records], pa.string()),
        "rows_read": pa.array([r.rows_read for r in records], pa.int64()),
        "loaded_at": pa.array([now] * len(records), pa.timestamp("us", tz="UTC")),
    })  # fmt: skip
    con.register("new_file_records", table)
    try:
        con.execute("insert or replace into ingest.files select * from new_file_records")
    finally:
        con.unregister("new_file_records")


def register_file(con: duckdb.DuckDBPyConnection, *fields, **named) -> None:
    register_files(con, [FileRecord(*fields, **named)])


def load_new_files(con: duckdb.DuckDBPyConnection, data_dir: DataDir, log: Log = print) -> dict[str, int]:
    """Parse every delivered content that is not in ingest.files yet."""
    ensure_ingest_tables(con)
    pending = pending_files(con)
    first_key = next_file_key(con)
    counts = {"csv_files": 0, "xml_files": 0, "rejected_files": 0}
    xml_batch = []
    readable: list[CsvFile] = []
    for file_key, (file_id, kind, source_file, kommunekode, too_long_line, content_hash) in enumerate(
        pending, start=first_key
    ):
        if kind == "ubl" and not source_file.lower().endswith(".xml"):
            register_file(
                con, file_id, file_key, kind, "xml", source_file, kommunekode, "rejected",
                "only .xml files are read in raw/ubl/ (e-documents as received): not an e-document",
            )  # fmt: skip
            counts["rejected_files"] += 1
            continue
        if kind == "ubl":
            xml_batch.append((file_id, content_hash, file_key, source_file, kommunekode))
            continue
        if kommunekode is None:
            register_file(
                con, file_id, file_key, kind, "csv", source_file, None, "rejected",
                unknown_folder_reason(source_file),
            )  # fmt: skip
            counts["rejected_files"] += 1
            continue
        try:
            dialect = csv_files.sniff(data_dir.raw / source_file, kind)
            if too_long_line is not None:
                raise csv_files.CsvFileError(csv_files.too_long_line_reason(too_long_line))
        except csv_files.CsvFileError as error:
            register_file(
                con, file_id, file_key, kind, "csv", source_file, kommunekode, "rejected", str(error)
            )
            counts["rejected_files"] += 1
            continue
        readable.append(CsvFile(file_id, file_key, kind, source_file, kommunekode, dialect))
    sizes = {f.file_id: (data_dir.raw / f.source_file).stat().st_size for f in readable}
    total_bytes, done_bytes, done, rows, started = sum(sizes.values()), 0, 0, 0, time.monotonic()
    for batch, (loaded, rejected, rows_read) in _load_csv_batches(
        con, data_dir, csv_batches(readable, data_dir)
    ):
        counts["csv_files"] += loaded
        counts["rejected_files"] += rejected
        done += len(batch)
        done_bytes += sum(sizes[f.file_id] for f in batch)
        rows += rows_read
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = done_bytes / elapsed
        if not progress.show(
            "CSV files",
            done_bytes,
            total_bytes,
            f"{done:,}/{len(readable):,} files, {rows / elapsed:,.0f} rows/s",
        ):
            log(
                f"CSV files {done}/{len(readable)} ({done_bytes / 2**20:,.0f} of {total_bytes / 2**20:,.0f} MB, "
                f"{rows:,} rows, {rows / elapsed:,.0f} rows/s, {rate / 2**20:.0f} MB/s, "
                f"ETA {(total_bytes - done_bytes) / rate:.0f} s): {batch[-1].source_file}"
            )
    if xml_batch:
        from assets.xml_loading import load_xml_files  # lxml and a process pool only when XML arrives

        loaded, rejected = load_xml_files(con, data_dir, xml_batch, log)
        counts["xml_files"] += loaded
        counts["rejected_files"] += rejected
    refused = validate_loaded_files(con, log)  # CSV files kept out by an ERROR check count as rejected
    counts["rejected_files"] += refused
    counts["csv_files"] = max(0, counts["csv_files"] - refused)
    return counts


def validate_loaded_files(con: duckdb.DuckDBPyConnection, log: Log = print) -> int:
    """Run the file expectations on every loaded file not evaluated yet; keep out those failing an ERROR one.

    CSV files are validated together after they are loaded, one GX run per kind: GX costs ~0.1 s a run, which
    a delivery of ~2,000 monthly files would pay 2,000 times. Each file's rows and its ingest.files row still
    commit together (load_csv_file); a refusal then deletes the rows and marks the file 'rejected' in one
    transaction. A file loaded but not evaluated (a run stopped in between) is evaluated by the next run.
    XML documents are evaluated inside their batch's transaction (assets/xml_loading.py).
    Returns the number of files refused.
    """
    refused = 0
    for kind in TARGET_TABLE:
        file_ids = [
            row[0]
            for row in con.execute(
                "select file_id from ingest.files where kind = ? and status = 'loaded' "
                "and file_id not in (select file_id from ingest.file_checks) order by source_file",
                [kind],
            ).fetchall()
        ]
        if not file_ids:
            continue
        from assets.quality import files as file_checks  # pandas and GX only when something new arrived

        checks_started = time.perf_counter()
        verdicts = file_checks.validate_files(con, kind, file_ids)
        con.execute("begin")
        try:
            for file_id in file_checks.record_verdicts(con, kind, verdicts):
                refused += 1
                log(f"kept out {file_id[:12]}: {verdicts[file_id].refusal}")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        log(f"file checks on {len(file_ids):,} {kind} files: {time.perf_counter() - checks_started:.1f} s")
    return refused


def unknown_folder_reason(source_file: str) -> str:
    parts = source_file.split("/")
    if len(parts) == 2:
        return f"the file is not in a municipality folder: move it to raw/{parts[0]}/<kommunekode>/"
    folder = parts[1]
    return (
        f"the delivery folder '{folder}' is not a municipality code (reference/kommuner.csv): "
        "move the file to raw/<kind>/<kommunekode>/"
    )


@dataclass(frozen=True)
class CsvFile:
    file_id: str
    file_key: int
    kind: str
    source_file: str
    kommunekode: str
    dialect: csv_files.CsvDialect

    @property
    def layout_key(self) -> tuple:
        """Files with the same key are read by one and the same SQL statement."""
        return (
            self.kind,
            self.dialect.delimiter,
            len(self.dialect.header),
            tuple(sorted(self.dialect.columns.items())),
        )


def csv_batches(files: list[CsvFile], data_dir: DataDir) -> list[list[CsvFile]]:
    """Files of one layout read together, up to BATCH_BYTES a batch: a statement costs ~0.1 s to plan and run,
    which thousands of small monthly files would otherwise pay one by one. A large file is a batch of its own."""
    by_layout: dict[tuple, list[CsvFile]] = {}
    for file in files:
        by_layout.setdefault(file.layout_key, []).append(file)
    batches: list[list[CsvFile]] = []
    for group in by_layout.values():
        batch: list[CsvFile] = []
        size = 0
        for file in group:
            file_size = (data_dir.raw / file.source_file).stat().st_size
            if batch and size + file_size > BATCH_BYTES:
                batches.append(batch)
                batch, size = [], 0
            batch.append(file)
            size += file_size
        if batch:
            batches.append(batch)
    return batches


def _load_csv_batches(
    con: duckdb.DuckDBPyConnection, data_dir: DataDir, batches: list[list[CsvFile]]
) -> Iterator[tuple[list[CsvFile], tuple[int, int, int]]]:
    """Load the batches two at a time, each in its own transaction on its own cursor; (batch, result) in order.

    One batch at a time kept 1.5 of the 2 cores busy over the CSV files of scale 0.1: one idles while Python
    transcodes a batch's files, while DuckDB scans a big file (a read WITH ORDINALITY is one thread) and while a
    commit writes. With two in flight the other batch uses that core. Appends of two transactions to one table
    do not conflict."""

    def load(batch: list[CsvFile]) -> tuple[int, int, int]:
        with con.cursor() as cursor:
            return load_csv_batch(cursor, data_dir, batch)

    # Row order inside a batch means nothing (record_number is a column); without it DuckDB reads a batch's
    # files in parallel instead of one after the other. A global setting: set once for the whole phase.
    con.execute("set preserve_insertion_order = false")
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            # Submitted one ahead, not all at once: after a failure only the batch in flight still finishes.
            in_flight: deque[tuple[list[CsvFile], Future[tuple[int, int, int]]]] = deque()
            for batch in batches:
                in_flight.append((batch, pool.submit(load, batch)))
                if len(in_flight) == 2:
                    done, future = in_flight.popleft()
                    yield done, future.result()
            while in_flight:
                done, future = in_flight.popleft()
                yield done, future.result()
    finally:
        con.execute("set preserve_insertion_order = true")


def load_csv_batch(
    con: duckdb.DuckDBPyConnection, data_dir: DataDir, batch: list[CsvFile]
) -> tuple[int, int, int]:
    """Load a batch of same-layout files in one transaction; (files loaded, files refused, records read).

    When DuckDB cannot read the batch, each file is retried alone, so one unreadable file refuses only itself.
    """
    readable: dict[str, Path] = {}
    try:
        for file in batch:
            path = data_dir.raw / file.source_file
            if file.dialect.needs_transcoding:
                path = data_dir.scratch / f"{file.file_id}.csv"
                csv_files.transcode_to_utf8(data_dir.raw / file.source_file, path, file.dialect.encoding)
            readable[file.file_id] = path
        # registered outside the transaction: unregistering inside a failed one would raise and hide the error
        con.register("batch_files", pa.table({
            "path": [str(readable[f.file_id]) for f in batch],
            "file_id": [f.file_id for f in batch],
            "file_key": pa.array([f.file_key for f in batch], pa.int32()),
        }))  # fmt: skip
        con.execute("begin")
        try:
            rows_read = _insert_csv_rows(con, batch, readable)
            register_files(con, [
                FileRecord(
                    file.file_id, file.file_key, file.kind, "csv", file.source_file, file.kommunekode, "loaded",
                    dialect=file.dialect.describe(), rows_read=rows_read.get(file.file_key, 0),
                )
                for file in batch
            ])  # fmt: skip
            con.execute("commit")
            return len(batch), 0, sum(rows_read.get(file.file_key, 0) for file in batch)
        except duckdb.Error as error:
            con.execute("rollback")
            _clear_csv_rejects(con)
            if len(batch) > 1:
                loaded, refused, records = zip(
                    *(load_csv_batch(con, data_dir, [file]) for file in batch), strict=True
                )
                return sum(loaded), sum(refused), sum(records)
            file = batch[0]
            reason = csv_error_reason(error)
            register_file(
                con, file.file_id, file.file_key, file.kind, "csv", file.source_file, file.kommunekode,
                "rejected", reason,
            )  # fmt: skip
            return 0, 1, 0
    finally:
        con.unregister("batch_files")
        for file in batch:
            path = readable.get(file.file_id)
            if path is not None and path != data_dir.raw / file.source_file:
                path.unlink(missing_ok=True)


STRUCTURAL_REASONS = {
    "TOO MANY COLUMNS": "the line has more fields than the header (a delimiter inside an unquoted value?)",
    "MISSING COLUMNS": "the line has fewer fields than the header",
    "UNQUOTED VALUE": "a quote character inside an unquoted value",
    "LINE SIZE OVER MAXIMUM": "the line is longer than 2 MB",
    "INVALID ENCODING": "the line is not valid text in the file's encoding",
    "INVALID UNICODE": "the line is not valid text in the file's encoding",
    "CAST ERROR": "a value could not be read",
}


def reject_reason(error_types: str, record: str | None) -> str:
    """In words, why DuckDB could not split a record into the header's columns (its error types, such as
    'TOO MANY COLUMNS, UNQUOTED VALUE')."""
    text = (record or "").rstrip("\r\n")
    if error_types.startswith("UNQUOTED VALUE") and "\n" in text:
        # a quote that never closes swallows the lines after it into one record (rows read stays right)
        return (
            f"a quoted value opens on this line and never closes: the next {text.count(chr(10))} line(s) were "
            "read into it as one record"
        )
    reason = next((words for key, words in STRUCTURAL_REASONS.items() if error_types.startswith(key)), None)
    return reason or f"the line cannot be read as CSV ({error_types})"


def csv_error_reason(error: duckdb.Error) -> str:
    """Why DuckDB could not read a file at all, in words."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if "state machine reached an invalid state" in message:
        return (
            "the file cannot be split into lines: it mixes line endings (CRLF and LF) or has a carriage return "
            "(CR) inside an unquoted value. Save it again with one kind of line ending"
        )
    return "the file cannot be read as CSV: " + message


def _clear_csv_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB keeps the rejects of every scan of the connection: start the next batch empty."""
    for table in ("csv_rejects", "csv_reject_scans"):
        con.execute(f"drop table if exists {table}")


def _scanned_csv_rows(file: CsvFile, path: Path) -> str:
    """The records of one file as DuckDB splits them: its own read_csv, so records are numbered within the file
    (WITH ORDINALITY) and the file's key and folder are constants (no per-row join or window)."""
    dialect = file.dialect
    positional = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(dialect.header))) + "}"
    delimiter = {";": ";", ",": ",", "\t": "\\t"}[dialect.delimiter]
    return f"""
        select {file.file_key}::integer as file_key, {sql_literal(file.kommunekode)} as folder_kommunekode, *
        from read_csv({sql_literal(str(path))}, header = true, delim = '{delimiter}', quote = '"', escape = '"',
                      columns = {positional}, store_rejects = true, rejects_table = 'csv_rejects',
                      rejects_scan = 'csv_reject_scans', null_padding = false, strict_mode = true,
                      auto_detect = false) with ordinality
    """


def _landed_csv_rows(file: CsvFile) -> str:
    """The landed rows of a batch of files of `file`'s layout, from their scanned records (`scanned_csv`): the
    canonical columns by name. The raw cells are kept as a list, which costs little; the ingest SQL joins them
    into the quarantined record's text only for the rows it rejects."""
    dialect = file.dialect
    by_canonical = {column: f"c{index}" for index, column in dialect.columns.items()}
    selected = ", ".join(
        f"{by_canonical[c]} as {c}" if c in by_canonical else f"cast(null as varchar) as {c}"
        for c in canonical_columns(file.kind)
    )
    cells = "[" + ", ".join(f"c{i}" for i in range(len(dialect.header))) + "]"
    return f"""
        select file_key, ordinality as record_number, 'csv' as source_format, folder_kommunekode, {selected},
               cast(null as varchar[]) as leverandoer_cvrs, {cells} as raw_cells,
               {sql_literal(dialect.delimiter)} as raw_delimiter
        from scanned_csv
    """


def _insert_csv_rows(
    con: duckdb.DuckDBPyConnection, batch: list[CsvFile], readable: dict[str, Path]
) -> dict[int, int]:
    """One set-based pass over a batch: DuckDB reads the files, the ingest SQL types the rows.

    Returns the records read per file_key (typed rows + records that could not be split into columns).
    The temporary view `batch_files` (path, file_id, file_key of each file) is registered by the caller."""
    kind = batch[0].kind
    table = TARGET_TABLE[kind]
    # The scan is materialised: a read_csv WITH ORDINALITY is read by one thread, and without the break the
    # typing and the insert would run in that thread too (a 272 MB file: 6.5 s on one core, 3.6 s on two).
    scanned = "\nunion all\n".join(_scanned_csv_rows(f, readable[f.file_id]) for f in batch)
    query = _parse_query(kind, _landed_csv_rows(batch[0]), f"scanned_csv as materialized ({scanned}),\n")
    keys = [f.file_key for f in batch]
    con.execute(f"insert into ingest.{table} {query}")
    # Keys grow with load order, so the zone maps skip every row group but this batch's.
    counts = dict(
        con.execute(
            f"select file_key, count(*) from ingest.{table} where file_key between ? and ? group by file_key",
            [min(keys), max(keys)],
        ).fetchall()
    )
    rejects = _insert_rejected_records(con, readable)
    key_of = {f.file_id: f.file_key for f in batch}
    _insert_record_lines(con, table, batch, readable, counts, rejects)
    for file_id, lines in rejects.items():
        counts[key_of[file_id]] = counts.get(key_of[file_id], 0) + len(lines)
    _clear_csv_rejects(con)  # after a failure, load_csv_batch clears them once it has rolled back
    return counts


def _insert_rejected_records(
    con: duckdb.DuckDBPyConnection, readable: dict[str, Path]
) -> dict[str, list[int]]:
    """The batch's records that DuckDB could not split into the header's columns, into ingest.rejected_records
    with the line each starts on in its file and its reason in words. Returns those lines per file_id, one per
    record."""
    rejects = con.execute("""
        select f.file_id, min(r.line_byte_position), string_agg(distinct r.error_type, ', '), any_value(r.csv_line)
        from csv_rejects r
        join csv_reject_scans s on s.scan_id = r.scan_id and s.file_id = r.file_id
        join batch_files f on f.path = s.file_path
        group by f.file_id, r.line
    """).fetchall()
    positions: dict[str, list[int]] = {}
    for file_id, position, _, _ in rejects:
        positions.setdefault(file_id, []).append(position)
    line_at = {
        file_id: csv_files.rejected_record_lines(readable[file_id], file_positions)
        for file_id, file_positions in positions.items()
    }
    lines = [line_at[file_id][position] for file_id, position, _, _ in rejects]
    if rejects:
        # lists as parameters, not a registered frame: unregistering in a failed transaction would hide its error
        con.execute(
            "insert into ingest.rejected_records select unnest(?::varchar[]), unnest(?::bigint[]), "
            "unnest(?::varchar[]), unnest(?::varchar[])",
            [
                [r[0] for r in rejects],
                lines,
                [reject_reason(r[2], r[3]) for r in rejects],
                [r[3] for r in rejects],
            ],
        )
    lines_of: dict[str, list[int]] = {}
    for (file_id, *_), line in zip(rejects, lines, strict=True):
        lines_of.setdefault(file_id, []).append(line)
    return lines_of


def _insert_record_lines(
    con: duckdb.DuckDBPyConnection,
    table: str,
    batch: list[CsvFile],
    readable: dict[str, Path],
    kept: dict[int, int],
    rejected_lines: dict[str, list[int]],
) -> None:
    """The line each of the batch's quarantined rows starts on in its file, into ingest.record_lines.

    DuckDB numbers the records it keeps (record_number); the file is read again, only when it has such a row,
    to find the line of each. A file read differently by Python's csv module keeps its rows' lines unknown."""
    keys = [f.file_key for f in batch]
    quarantined = con.execute(
        f"select file_key, list(record_number order by record_number) from ingest.{table} "
        "where file_key between ? and ? and reject_reason is not null group by file_key",
        [min(keys), max(keys)],
    ).fetchall()
    by_key = {f.file_key: f for f in batch}
    rows: dict[str, list[int]] = {"file_key": [], "record_number": [], "line_number": []}
    for file_key, record_numbers in quarantined:
        file = by_key.get(file_key)
        if file is None:
            continue
        lines = csv_files.kept_record_lines(
            readable[file.file_id],
            file.dialect,
            set(rejected_lines.get(file.file_id, [])),
            kept.get(file_key, 0),
        )
        if lines is None:
            continue
        rows["file_key"] += [file_key] * len(record_numbers)
        rows["record_number"] += record_numbers
        rows["line_number"] += [lines[number - 1] for number in record_numbers]
    if rows["file_key"]:
        con.execute(
            "insert into ingest.record_lines select unnest(?::integer[]), unnest(?::bigint[]), unnest(?::bigint[])",
            [rows["file_key"], rows["record_number"], rows["line_number"]],
        )


# --- 3. forget ---------------------------------------------------------------------------------------------


def forget_withdrawn_files(con: duckdb.DuckDBPyConnection) -> int:
    """Delete what was loaded from deliveries that are no longer in DIR/raw (a deleted or replaced file).

    A delivery's file_id includes its place (kind of folder, municipality): a file moved out of a wrong folder
    (another municipality's, an unknown one, orders/ for invoices/) is a new delivery, loaded from where it is
    now, and the old one's rows, municipality and reasons leave with it. (The incremental tables see the file_id
    gone from the deliveries and drop its rows themselves.)
    """
    ensure_ingest_tables(con)
    file_ids = [
        row[0]
        for row in con.execute(
            "select file_id from ingest.files where file_id not in (select file_id from ingest.deliveries)"
        ).fetchall()
    ]
    _forget_loaded_files(con, file_ids, recompute=False)
    return len(file_ids)


def forget_files_dated_ahead(con: duckdb.DuckDBPyConnection) -> int:
    """Forget the loaded contents with a row refused for a date after the day it was loaded that is now past:
    they are read again in this run, as a run from scratch would read them today. A row dated tomorrow is
    implausible today and plausible tomorrow; without this the row would stay refused until the file changed,
    and the figures would differ from a cold run on the same raw/ (an independent audit found it)."""
    ensure_ingest_tables(con)
    file_ids = [
        row[0]
        for row in con.execute("""
            select distinct f.file_id
            from ingest.files f
            join (
                select file_key, issue_date as day from ingest.invoice_rows where reject_reason is not null
                union all
                select file_key, order_date from ingest.order_rows where reject_reason is not null
            ) r using (file_key)
            where r.day > cast(f.loaded_at as date) and r.day <= load_date()
        """).fetchall()
    ]
    _forget_loaded_files(con, file_ids, recompute=True)
    return len(file_ids)


def _forget_loaded_files(con: duckdb.DuckDBPyConnection, file_ids: list[str], recompute: bool) -> None:
    """Forget loaded contents in one transaction: their rows, their file checks and their ingest.files rows, so
    that a content still delivered is loaded anew. `recompute`: the incremental tables compute these contents
    (and their municipalities) again, though their file_ids stay among the deliveries."""
    if not file_ids:
        return
    con.execute("begin")
    try:
        delete_loaded_rows(con, file_ids)
        for table in ("file_checks", "files"):
            con.execute(
                f"delete from ingest.{table} where file_id in (select unnest(?::varchar[]))", [file_ids]
            )
        if recompute:
            forget_incremental_contents(con, file_ids)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def delete_loaded_rows(con: duckdb.DuckDBPyConnection, file_ids: list[str]) -> None:
    """Delete every row loaded from these files: their typed rows, the lines of their quarantined rows and their
    records that could not be split. Their ingest.files rows stay (the caller removes or marks them)."""
    for table in (*TARGET_TABLE.values(), "record_lines"):
        con.execute(
            f"delete from ingest.{table} where file_key in "
            "(select file_key from ingest.files where file_id in (select unnest(?::varchar[])))",
            [file_ids],
        )
    con.execute(
        "delete from ingest.rejected_records where file_id in (select unnest(?::varchar[]))", [file_ids]
    )
