"""`ehandel bench`: the pipeline's cost as a ratio to a bare DuckDB read of the same files.

Generates (once, cached under .bench/) a data set at the given scale, then in the same invocation:
0. every raw file is read once, so that both measurements find the files in the OS page cache;
1. the reference: every CSV read by DuckDB with all its columns, every XML document parsed once by lxml;
2. the pipeline, cold: `ehandel run` on a fresh warehouse (the raw files are shared, the outputs are not);
   with `runs` > 1, steps 1 and 2 are repeated alternately; the medians are recorded with their range, and the
   ratio is that of the medians (on a shared VM the same code and the bare read each vary by up to 2x from one
   run to the next);
3. a new monthly extract: one municipality's last monthly invoice file is held back during 1 and 2, then
   delivered, and `ehandel run` runs again on the warm warehouse (the monthly refresh of issue 7).
Each step runs in its own process, so peak memory (max RSS) is measured per step by the kernel.
Results are appended to BENCHMARKS.md with the machine and the date. The log of the (last) cold run and of the
monthly run (Dagster's debug events, with every step's duration) is kept in .bench/<data set>/bench-cold.log and
bench-monthly.log, and the slowest steps are printed: where the time goes.
"""

import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pipelines.settings import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / ".bench"
RESULTS = PROJECT_ROOT / "BENCHMARKS.md"

REFERENCE_SCRIPT = r"""
import sys, time
from pathlib import Path
from concurrent.futures import ProcessPoolExecutor
import duckdb
from lxml import etree
from assets.readers.csv_files import sniff, CsvFileError, transcode_to_utf8

raw = Path(sys.argv[1]); scratch = Path(sys.argv[2])
con = duckdb.connect()
rows = 0
for kind in ("invoices", "orders"):
    for path in sorted((raw / kind).glob("*/*.csv")):
        dialect = sniff(path, kind)
        readable = path
        if dialect.needs_transcoding:  # DuckDB cannot read Windows-1252 offline
            readable = scratch / "ref.csv"
            transcode_to_utf8(path, readable, dialect.encoding)
        delim = {"\t": "\\t"}.get(dialect.delimiter, dialect.delimiter)
        rows += con.execute(
            f"select count(*) from (select hash(columns(*)) from read_csv(?, delim = '{delim}', header = true, "
            "quote = '\"', all_varchar = true, ignore_errors = true))", [str(readable)]
        ).fetchone()[0]

def parse(paths):
    for p in paths:
        etree.fromstring(Path(p).read_bytes())
    return len(paths)

xml = sorted(str(p) for p in (raw / "ubl").rglob("*.xml"))
chunks = [xml[i:i + 500] for i in range(0, len(xml), 500)]
with ProcessPoolExecutor(2) as pool:
    documents = sum(pool.map(parse, chunks))
print(f"rows={rows} xml={documents}")
"""


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in GiB of the process and its children, stdout) of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{output[-2000:]}")
    return seconds, usage.ru_maxrss / 2**20, output


def _read_all(raw: Path) -> None:
    """Bring the raw files into the OS page cache: the disk's speed is not what the ratio compares, and
    whichever step read the files first would otherwise pay for it alone."""
    for path in raw.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                while handle.read(2**24):
                    pass


def _raw_size(raw: Path) -> tuple[int, float]:
    files = [p for p in raw.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files) / 2**30


def spread(seconds: list[float]) -> str:
    """'41.0' for one run; 'median 41.0 of 3 (40.1-41.9)' for several."""
    if len(seconds) == 1:
        return f"{seconds[0]:.1f}"
    return (
        f"median {statistics.median(seconds):.1f} of {len(seconds)} ({min(seconds):.1f}-{max(seconds):.1f})"
    )


def run_benchmark(scale: float, years: str, seed: int = 2021, runs: int = 1) -> str:
    data = BENCH_DIR / f"scale-{scale:g}-{years}-{seed}"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    run_env = {**env, "EHANDEL_LOG_LEVEL": "DEBUG"}  # step durations in the kept log
    ehandel = [sys.executable, "-m", "pipelines.cli"]
    if not (data / "raw" / ".complete").exists():
        shutil.rmtree(data, ignore_errors=True)
        print(f"generating scale {scale} for {years} into {data} (cached for later runs)")
        _timed(
            [
                *ehandel,
                "generate",
                "--data-dir",
                str(data),
                "--scale",
                str(scale),
                "--years",
                years,
                "--seed",
                str(seed),
            ],
            env,
        )
        (data / "raw" / ".complete").touch()
    monthly = _monthly_extract(data / "raw")
    held_back = data / "held_back" / monthly.name
    held_back.parent.mkdir(parents=True, exist_ok=True)
    os.replace(monthly, held_back)
    ref_times, run_times, run_peaks, ref_peaks = [], [], [], []
    ref_out = run_log = ""
    try:
        files, gib = _raw_size(data / "raw")
        print("reading every raw file once, so that both measurements find them in the page cache ...")
        _read_all(data / "raw")
        for number in range(1, runs + 1):
            for output in ("marts", "reports", "cache"):
                shutil.rmtree(data / output, ignore_errors=True)
            scratch = data / "cache"
            scratch.mkdir(parents=True, exist_ok=True)
            of = f" ({number} of {runs})" if runs > 1 else ""
            print(f"reference{of}: bare DuckDB read of every CSV, lxml parse of every XML ...")
            ref_s, ref_rss, ref_out = _timed(
                [sys.executable, "-c", REFERENCE_SCRIPT, str(data / "raw"), str(scratch)], env
            )
            print(f"pipeline{of}: ehandel run, cold ...")
            run_s, run_rss, run_log = _timed([*ehandel, "run", "--data-dir", str(data)], run_env)
            print(f"  bare read {ref_s:.1f} s, pipeline {run_s:.1f} s (ratio {run_s / ref_s:.2f})")
            ref_times.append(ref_s)
            ref_peaks.append(ref_rss)
            run_times.append(run_s)
            run_peaks.append(run_rss)
    finally:
        os.replace(held_back, monthly)
    print(f"pipeline: ehandel run after a new monthly extract ({monthly.relative_to(data / 'raw')}) ...")
    month_s, _, month_log = _timed([*ehandel, "run", "--data-dir", str(data)], run_env)
    for name, log in (("cold", run_log), ("monthly", month_log)):
        (data / f"bench-{name}.log").write_text(log, encoding="utf-8")
        print(f"slowest steps of the {name} run (log: {data / f'bench-{name}.log'}):")
        for step, seconds in slowest_steps(log):
            print(f"  {seconds:7.1f} s  {step}")
        for summary in SQL_TABLES_SUMMARY.findall(log):  # inside the step sql_tables: its slowest tables
            print(f"  sql_tables: {summary}")

    median_run, median_ref = statistics.median(run_times), statistics.median(ref_times)
    run_rss, ref_rss = max(run_peaks), max(ref_peaks)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {_memory_gib():.0f} GiB, Python {platform.python_version()}"
    line = (
        f"| {stamp} | {scale:g} | {years} | {files} files, {gib:.2f} GiB ({ref_out.strip()}) | {spread(run_times)} "
        f"| {spread(ref_times)} "
        f"| {median_run / median_ref:.2f} | {run_rss:.2f} | {ref_rss:.2f} | {month_s:.1f} ({month_s / median_run:.0%}) "
        f"| {machine} |"
    )
    _append_result(line)
    return (
        f"pipeline {spread(run_times)} s (peak RSS {run_rss:.2f} GiB), bare read {spread(ref_times)} s "
        f"(peak RSS {ref_rss:.2f} GiB), "
        f"ratio {median_run / median_ref:.2f}; a new monthly extract {month_s:.1f} s "
        f"({month_s / median_run:.0%} of the cold run); "
        f"data: {files} files, {gib:.2f} GiB; recorded in {RESULTS.name}"
    )


# the closing line of the step sql_tables (assets/sql_assets.py tables_summary) in a run's log
SQL_TABLES_SUMMARY = re.compile(r" - sql_tables - ([0-9]+ tables in .*)$", re.MULTILINE)
STEP_FINISHED = re.compile(r'Finished execution of step "([^"]+)" in ([0-9hms.]+)\.$', re.MULTILINE)
DURATION_PART = re.compile(r"([0-9.]+)(ms|h|m|s)")


def slowest_steps(log: str, count: int = 8) -> list[tuple[str, float]]:
    """(step, seconds) of the slowest Dagster steps in a run's debug log (durations as '533ms', '4m52s')."""
    unit = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    steps = [
        (step, sum(float(n) * unit[u] for n, u in DURATION_PART.findall(duration)))
        for step, duration in STEP_FINISHED.findall(log)
    ]
    return sorted(steps, key=lambda step: -step[1])[:count]


def _monthly_extract(raw: Path) -> Path:
    """The last monthly invoice file of the first municipality that delivers monthly (e.g. ..._2021-12.csv)."""
    monthly = sorted(
        p for p in (raw / "invoices").glob("*/*.csv") if p.stem[-3:-2] == "-" and p.stem[-2:].isdigit()
    )
    if not monthly:
        raise RuntimeError(f"no monthly invoice extract in {raw / 'invoices'}")
    first_folder = monthly[0].parent
    return max(p for p in monthly if p.parent == first_folder)


def _memory_gib() -> float:
    try:
        import psutil

        return psutil.virtual_memory().total / 2**30
    except ImportError:  # pragma: no cover
        return 0.0


def _append_result(line: str) -> None:
    header = (
        "| date | scale | years | input | pipeline s | bare read s | ratio | pipeline peak RSS GiB | "
        "bare read peak RSS GiB | new monthly extract s (share of cold run) | machine |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Benchmarks\n\n`make bench SCALE=<s>` (or `ehandel bench --scale <s>`) appends a row: a cold `ehandel run` "
            "against a bare DuckDB read of the same files (every CSV with all columns, every XML parsed once by lxml), "
            "each in its own process; peak RSS from the kernel (wait4).\n\n" + header,
            encoding="utf-8",
        )
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
