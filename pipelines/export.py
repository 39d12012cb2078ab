"""The marts beyond one machine: a copy as Parquet, Hive-partitioned by year, on a path or in object storage.

    <target>/<mart>/year=2021/data_0.parquet   every mart with a `year` column (rows without a year go to
                                               year=__HIVE_DEFAULT_PARTITION__, which reads back as NULL)
    <target>/<mart>.parquet                    the marts without one (checks, ingest_log)
    <target>/manifest.json                     written last: the publication's stamp and what was exported

Read back with `read_parquet('<target>/<mart>/*/*.parquet', hive_partitioning = true)` (DuckDB, Polars, Spark,
pyarrow.dataset). The target is a local path or an fsspec URL (`memory://`, `file://`, `s3://bucket/prefix`
with s3fs): DuckDB's COPY writes through the fsspec filesystem registered on its connection.

A local target changes one mart at a time by rename (a reader sees the old mart or the new one, or for an
instant none, never a mix). Object stores have no rename: there a mart is removed, then written; readers that
need one consistent set compare `run_id` in manifest.json before and after they read (docs/scaling.md).
"""

import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb
import fsspec
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from pipelines import publication
from pipelines.settings import DataDir
from pipelines.warehouse import sql_literal

PARTITION_COLUMN = "year"
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # the folder of rows whose year is NULL (DuckDB, Spark, Hive)
MANIFEST = "manifest.json"
MART_NAME = re.compile(r"[a-z0-9_]+")  # what a previous manifest may name for removal


class ExportError(RuntimeError):
    """The export cannot be made; the message is one line for a human."""


@dataclass(frozen=True)
class ExportedMart:
    name: str
    rows: int
    years: tuple[int, ...]  # the years it holds; empty for a mart without a year column
    partitioned: bool

    @property
    def location(self) -> str:
        """Where it is, relative to the target."""
        return f"{self.name}/" if self.partitioned else f"{self.name}.parquet"


def published_marts_dir(paths: DataDir) -> Path:
    """The marts of the current publication, resolved once so that every mart comes from the same run.

    DIR/marts/<name>.parquet are links into DIR/.publication; following the pointer once means a run that
    publishes during the export cannot mix two runs' marts (the previous publication is kept after a switch).
    A data directory from before versioned publications holds plain files in DIR/marts.
    """
    current = publication.current_publication(paths)
    marts = current / "marts" if current is not None else paths.marts
    if not marts.is_dir() or not any(marts.glob("*.parquet")):
        raise ExportError(
            f"no published marts in {paths.marts}: run `ehandel run --data-dir {paths.root}` first"
        )
    return marts


def export_published(
    source: Path, target: str, *, public: bool = False, storage_options: Mapping[str, Any] | None = None
) -> list[ExportedMart]:
    """Export every <name>.parquet of a published marts folder (with its manifest.json) to `target`.

    public=True exports what the reports publish instead: a year a failed ERROR check withheld as the reports
    show it (held back with the figures published before, or left out), and the quarantine without raw records
    or values quoted in its reasons (assets/publish.py).
    """
    with tempfile.TemporaryDirectory(prefix="ehandel-export-") as scratch:
        marts = _public_copy(source, Path(scratch)) if public else source
        manifest = _read_manifest(source)
        held_back = publication.held_back_years(marts) if public else {}
        if held_back:  # the years whose rows are those of an earlier publication, and its day
            manifest["held_back"] = {str(year): shown["generated_at"] for year, shown in held_back.items()}
        no_growth = publication.years_without_growth(marts) if public else {}
        if no_growth:  # the years without growth figures, and the held-back year before each
            manifest["no_growth"] = {str(year): before for year, before in no_growth.items()}
        try:
            with duckdb.connect() as con:
                relations = {}
                for path in sorted(marts.glob("*.parquet")):
                    con.read_parquet(str(path)).create_view(f"published_{path.stem}")
                    relations[path.stem] = _quote(f"published_{path.stem}")
                return export_marts(
                    con, target, relations, manifest=manifest, storage_options=storage_options
                )
        except (duckdb.IOException, FileNotFoundError) as error:
            if not source.is_dir():
                raise ExportError(
                    f"the publication {source.parent} was replaced while it was exported: export again"
                ) from error
            raise


def export_marts(
    con: duckdb.DuckDBPyConnection,
    target: str,
    relations: Mapping[str, str],
    *,
    manifest: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> list[ExportedMart]:
    """Write each mart (name -> a relation of `con`) to `target`, Hive-partitioned by year when it has one."""
    with _writable(con, target, storage_options or {}) as destination:
        previous = destination.read_manifest()
        exported = [_export_one(con, destination, name, relation) for name, relation in relations.items()]
        # A mart the previous export wrote that is no longer published goes; nothing else is touched.
        names = {mart.name for mart in exported}
        for name in sorted(set(previous.get("marts", {})) - names):
            if MART_NAME.fullmatch(str(name)):
                destination.remove(name)
        stamp = {
            **(manifest or {}),
            "exported_at": publication.utc_timestamp(),
            "partitioning": f"hive, by {PARTITION_COLUMN}",
            "marts": {
                mart.name: {"location": mart.location, "rows": mart.rows, "years": list(mart.years)}
                for mart in exported
            },
        }
        destination.write_text(MANIFEST, json.dumps(stamp, indent=2, ensure_ascii=False) + "\n")
    return exported


def _export_one(
    con: duckdb.DuckDBPyConnection, destination: "_Destination", name: str, relation: str
) -> ExportedMart:
    columns = [row[0] for row in con.execute(f"describe select * from {relation}").fetchall()]
    partitioned = PARTITION_COLUMN in columns
    if partitioned:
        rows, years = _one(
            con,
            f"select count(*), coalesce(list(distinct {PARTITION_COLUMN} order by {PARTITION_COLUMN}) "
            f"filter (where {PARTITION_COLUMN} is not null), []) from {relation}",
        )
    else:
        rows, years = _one(con, f"select count(*), [] from {relation}")

    def copy(query: str, target: str, options: str = "") -> None:
        con.execute(f"copy ({query}) to {sql_literal(target)} (format parquet, compression zstd{options})")

    def write(url: str) -> None:
        ordered = f"select * from {relation} order by all"
        if not partitioned:
            copy(ordered, url)
        elif rows:
            copy(ordered, url, f", partition_by ({PARTITION_COLUMN}), overwrite_or_ignore")
        else:
            # A partitioned COPY of no rows writes no file, and a glob over the mart would find none: one
            # empty file keeps the columns readable (its year reads back as NULL, and it has no rows).
            folder = f"{url}/{PARTITION_COLUMN}={HIVE_NULL}"
            destination.make_folder(folder)
            copy(f"select * exclude ({PARTITION_COLUMN}) from {relation}", f"{folder}/data_0.parquet")

    destination.write_mart(name, partitioned, write)
    return ExportedMart(
        name=name, rows=int(rows), years=tuple(int(y) for y in years), partitioned=partitioned
    )


# --- destinations ---------------------------------------------------------------------------------------


Write = Callable[[str], object]  # writes one mart to the path or URL it is given


class _Destination(Protocol):
    """Where the marts go: the same operations on a local folder and on an fsspec filesystem."""

    def read_manifest(self) -> dict[str, Any]: ...
    def write_mart(self, name: str, partitioned: bool, write: Write) -> None: ...
    def make_folder(self, url: str) -> None: ...
    def remove(self, name: str) -> None: ...
    def write_text(self, name: str, text: str) -> None: ...


class _LocalFolder:
    """A mart is written beside its final place, then renamed into it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def read_manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST
        return _parse_manifest(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def write_mart(self, name: str, partitioned: bool, write: Write) -> None:
        token = uuid.uuid4().hex[:12]
        final = self.root / name if partitioned else self.root / f"{name}.parquet"
        fresh = self.root / f".{final.name}.export-{token}"
        try:
            write(fresh.as_posix())
            if partitioned and final.is_dir():
                # A folder cannot replace a folder in one rename: move the old one aside, then remove it.
                old = self.root / f".{final.name}.old-{token}"
                os.replace(final, old)
                os.replace(fresh, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(fresh, final)
        finally:
            _remove_local(fresh)
        # The same mart in the other form (it gained or lost its year column) goes.
        _remove_local(self.root / (f"{name}.parquet" if partitioned else name))

    def make_folder(self, url: str) -> None:
        Path(url).mkdir(parents=True, exist_ok=True)

    def remove(self, name: str) -> None:
        _remove_local(self.root / name)
        _remove_local(self.root / f"{name}.parquet")

    def write_text(self, name: str, text: str) -> None:
        temporary = self.root / f".{name}.export-{uuid.uuid4().hex[:12]}"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.root / name)


class _FsspecStore:
    """An fsspec filesystem (object storage): no rename, so remove, then write."""

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, url: str) -> None:
        self.fs, self.root, self.url = fs, root.rstrip("/"), url.rstrip("/")

    def read_manifest(self) -> dict[str, Any]:
        path = f"{self.root}/{MANIFEST}"
        return _parse_manifest(self.fs.read_text(path, encoding="utf-8")) if self.fs.exists(path) else {}

    def write_mart(self, name: str, partitioned: bool, write: Write) -> None:
        self.remove(name)
        write(f"{self.url}/{name}" if partitioned else f"{self.url}/{name}.parquet")

    def make_folder(self, url: str) -> None:
        self.fs.makedirs(self.root + url.removeprefix(self.url), exist_ok=True)

    def remove(self, name: str) -> None:
        for path in (f"{self.root}/{name}", f"{self.root}/{name}.parquet"):
            if self.fs.exists(path):
                self.fs.rm(path, recursive=True)

    def write_text(self, name: str, text: str) -> None:
        self.fs.pipe_file(f"{self.root}/{name}", text.encode("utf-8"))


@contextmanager
def _writable(
    con: duckdb.DuckDBPyConnection, target: str, storage_options: Mapping[str, Any]
) -> Iterator[_Destination]:
    """The destination of `target`; for a remote one, its fsspec filesystem registered on `con` meanwhile."""
    try:
        fs, root = url_to_fs(target, **storage_options)
    except (ImportError, ValueError) as error:  # a scheme fsspec does not know, or whose package is missing
        raise ExportError(f"cannot write to {target}: {error}") from None
    if isinstance(fs, LocalFileSystem):
        yield _LocalFolder(Path(root))
        return
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    registered_here = protocol not in con.list_filesystems()
    if registered_here:
        con.register_filesystem(fs)
    try:
        yield _FsspecStore(fs, root, target)
    finally:
        if registered_here:
            con.unregister_filesystem(protocol)


# --- helpers --------------------------------------------------------------------------------------------


def _public_copy(source: Path, scratch: Path) -> Path:
    """What the reports publish: the public copy a publication keeps beside its marts, with the years it holds
    back; for marts without one, a public copy made as reports/site makes it (pipelines/publication.py)."""
    withheld = publication.withheld_years(source / "checks.parquet")
    if None in withheld:
        raise ExportError(f"nothing may be published: {withheld[None]} (see {source}/checks.parquet)")
    kept = source.parent / publication.PUBLIC
    if (source.parent / publication.COMPLETE).exists() and (kept / "manifest.json").is_file():
        return kept
    return publication.public_copy(source, scratch / "public", withheld)


def _read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    return _parse_manifest(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _parse_manifest(text: str | bytes) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _one(con: duckdb.DuckDBPyConnection, query: str) -> tuple[Any, ...]:
    row = con.execute(query).fetchone()
    assert row is not None
    return row


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _remove_local(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
