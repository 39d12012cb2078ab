"""`ehandel run` shows its progress: live bars on a terminal (a real pseudo-terminal), plain log lines in a pipe."""

import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipelines.progress import TenthsLog

EHANDEL = Path(sys.executable).parent / "ehandel"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

pytestmark = pytest.mark.xdist_group("progress")


@pytest.fixture(scope="module")
def synthetic_raw(tmp_path_factory) -> Path:
    from synthetic import generate

    root = tmp_path_factory.mktemp("synthetic") / "data"
    generate(root, scale=0.003, years=[2021])
    return root


def fresh_copy(raw_root: Path, target: Path) -> Path:
    shutil.copytree(raw_root / "raw", target / "raw")
    return target


def env_for(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster"), "COLUMNS": "200", "TERM": "xterm"}


def run_on_a_terminal(data_dir: Path, env: dict[str, str]) -> tuple[int, str]:
    """`ehandel run` with stdout and stderr on a pseudo-terminal: what a person at the terminal sees."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [str(EHANDEL), "run", "--data-dir", str(data_dir)],
        stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env,
    )  # fmt: skip
    os.close(terminal)
    chunks = []
    while True:
        try:
            data = os.read(controller, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(controller)
    return process.wait(timeout=300), ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_a_run_on_a_terminal_draws_a_bar_for_each_phase(synthetic_raw, tmp_path):
    data_dir = fresh_copy(synthetic_raw, tmp_path / "data")
    returncode, seen = run_on_a_terminal(data_dir, env_for(tmp_path))
    assert returncode == 0, seen[-3000:]
    csv_files = sum(1 for _ in (data_dir / "raw").glob("*/*/*.csv"))
    xml_documents = sum(1 for _ in (data_dir / "raw" / "ubl").rglob("*.xml"))
    # the final frame: every phase at 100%, its count of work done, the CSV phase with its rate in rows
    assert re.search(rf"CSV files +\S+ +100% .* {csv_files:,}/{csv_files:,} files, [\d,]+ rows/s", seen), (
        seen[-3000:]
    )
    assert re.search(
        rf"XML documents +\S+ +100% .* {xml_documents:,}/{xml_documents:,}, [\d,]+ a second", seen
    )
    assert re.search(r"hashing +\S+ +100% ", seen)
    assert re.search(r"SQL tables +\S+ +100% .* (\d+)/\1", seen)
    assert re.search(r"report pages +\S+ +100% .* (\d+)/\1", seen)
    # the bars replace the plain progress lines; the run's other log lines still print
    assert "CSV files 1/" not in seen and "SQL tables: " not in seen
    assert "raw/: " in seen and " files (" in seen
    assert f"Report: {data_dir / 'reports' / 'index.html'}" in seen


def test_a_run_in_a_pipe_logs_plain_progress_lines(synthetic_raw, tmp_path):
    data_dir = fresh_copy(synthetic_raw, tmp_path / "data")
    done = subprocess.run(
        [str(EHANDEL), "run", "--data-dir", str(data_dir)],
        capture_output=True, text=True, env=env_for(tmp_path), timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    csv_files = sum(1 for _ in (data_dir / "raw").glob("*/*/*.csv"))
    last = re.search(
        rf"CSV files {csv_files}/{csv_files} \(.* ([\d,]+) rows, [\d,]+ rows/s, \d+ MB/s, ETA 0 s\)",
        done.stderr,
    )
    assert last, done.stderr[-3000:]
    # the rows it counted are every CSV file's rows read, as the ingest log has them
    log = pl.read_parquet(data_dir / "marts" / "ingest_log.parquet").filter(pl.col("source_format") == "csv")
    assert int(last.group(1).replace(",", "")) == log["rows_read"].sum() > 0
    # the SQL tables and the report pages: a line as each tenth is done, the last one at the end
    tables = re.findall(r"SQL tables: (\d+)/(\d+) tables \([\d.]+ s so far\)", done.stderr)
    assert len(tables) == 10 and tables[-1][0] == tables[-1][1]
    pages = re.findall(r"report pages: (\d+)/(\d+) pages \([\d.]+/s, ETA \d+ s\)", done.stderr)
    assert len(pages) == 10 and pages[-1][0] == pages[-1][1]
    assert "\x1b[" not in done.stderr.replace(
        "\x1b[0m", ""
    )  # no bar drawn into a pipe (colours are Dagster's)


def test_plain_lines_come_as_each_tenth_is_done():
    lines: list[str] = []
    tenths = TenthsLog("pages", "pages")
    for done in range(1, 24):
        tenths.log(done, 23, f"page {done}", lines.append)
    # 23 pages: tenths reached at pages 3, 5, 7, 10, 12, 14, 17, 19, 21 and 23
    assert [line.split(" (")[0] for line in lines] == [
        f"pages: {n}/23 pages" for n in (3, 5, 7, 10, 12, 14, 17, 19, 21, 23)
    ]
