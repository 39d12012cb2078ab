"""What a publication is stamped with, and how its files are put in place."""

import hashlib
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.settings import PROJECT_ROOT, REFERENCE_DIR, DataDir


def code_version() -> str:
    """The git commit of the code (with '-dirty' when it has local changes), else the package version."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        return f"{sha}-dirty" if dirty else sha
    except (OSError, subprocess.SubprocessError):
        from importlib.metadata import version

        return f"ehandel {version('ehandel')}"


def input_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """sha256 over every delivered content (path and hash) and the shipped reference tables."""
    digest = hashlib.sha256()
    for source_file, file_id in con.execute(
        "select source_file, file_id from ingest.deliveries order by source_file"
    ).fetchall():
        digest.update(f"{source_file}\t{file_id}\n".encode())
    for path in sorted(REFERENCE_DIR.glob("*.csv")):
        digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def manifest(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, str]:
    return {
        "input_fingerprint": input_fingerprint(con),
        "code_version": code_version(),
        "run_id": run_id,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def published_mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_name like 'mart\\_%' escape '\\' order by table_name"
        ).fetchall()
    ]


def export_marts(con: duckdb.DuckDBPyConnection, data_dir: DataDir, staging: Path) -> dict[str, int]:
    """Write every marts.mart_<name> table to <staging>/<name>.parquet, rows in a stable order."""
    staging.mkdir(parents=True, exist_ok=True)
    counts = {}
    for table in published_mart_tables(con):
        name = table.removeprefix("mart_")
        target = staging / f"{name}.parquet"
        quoted = "'" + target.as_posix().replace("'", "''") + "'"
        con.execute(
            f"copy (select * from marts.{table} order by all) to {quoted} (format parquet, compression zstd)"
        )
        counts[name] = int(con.execute(f"select count(*) from marts.{table}").fetchone()[0])  # type: ignore[index]
    return counts


def move_files_into_place(staging: Path, target: Path) -> None:
    """Move each file of `staging` over its namesake in `target` (os.replace is atomic per file)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(staging.iterdir()):
        os.replace(path, target / path.name)
    staging.rmdir()


def swap_directory(new: Path, target: Path) -> None:
    """Put a freshly written directory in the place of `target`; the old one is removed after."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    if old.exists():
        shutil.rmtree(old)
