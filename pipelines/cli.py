"""The `ehandel` command line (DATA_CONTRACT.md): run, generate, inspect."""

import gc
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipelines.settings import DAGSTER_HOME, PROJECT_ROOT, DataDir, dagster_home, log_level, memory_limit

if TYPE_CHECKING:  # dagster is imported only when a command needs it (start-up)
    from dagster_shared.error import SerializableErrorInfo

app = typer.Typer(add_completion=False, no_args_is_help=True, help="E-handel i tal: the national pipeline.")

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: data/ of the project, or $EHANDEL_DATA_DIR)."),
]


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME as an absolute path holding (a link to) the project's dagster.yaml."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() and home == DAGSTER_HOME.resolve():
        config.symlink_to(PROJECT_ROOT / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def fail(message: str) -> None:
    typer.echo(f"ehandel: {message}", err=True)
    raise typer.Exit(1)


def parse_years(text: str) -> list[int]:
    """'2021' or '2017-2022'."""
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
            if last < first:
                raise ValueError
            return list(range(first, last + 1))
        return [int(text)]
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a year or a range of years such as 2017-2022") from None


BUSY_EXIT_CODE = 75  # EX_TEMPFAIL: another run holds the data directory; trying again later will work


def _execute(paths: DataDir):
    ensure_dagster_home()
    from dagster import DagsterInstance

    from pipelines.definitions import build_definitions
    from pipelines.progress import live_progress

    job = build_definitions(str(paths.root)).resolve_job_def("refresh_warehouse")
    # The imported modules and definitions live as long as the process: the collector need not scan them again.
    # With rarer collections too (a run makes few long-lived Python objects; the rows are in DuckDB), a cold run
    # of scale 0.1 spent 0.6 s collecting instead of 1.6 s.
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    # Progress and warnings on the terminal; every step event stays in the run's log (make dev) and DEBUG on request.
    run_config = {"loggers": {"console": {"config": {"log_level": log_level()}}}}
    with DagsterInstance.get() as instance, live_progress():
        return job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config)


def _run_failure(result) -> str:
    """One line for a failed run: the first error among its events (a step, a resource such as the warehouse, the
    run), past Dagster's wrappers."""
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        if error is not None:
            where = f"step {event.step_key} failed: " if event.step_key else ""
            return where + _failure_line(error)
    return "the run failed (see the Dagster UI: make dev)"


def _failure_line(error: "SerializableErrorInfo | None") -> str:
    """The last line of the error that caused a step failure, past Dagster's own wrappers."""
    while error is not None and error.cause is not None and (error.cls_name or "").startswith("Dagster"):
        error = error.cause
    text = error.message.strip() if error is not None else ""
    return text.splitlines()[-1] if text else "unknown error"


def _has_deliveries(raw: Path) -> bool:
    """Whether raw/ holds a file under a kind's folder; stops at the first (a national year has ~45,000)."""
    from assets.loading import KINDS

    for kind in KINDS:
        for _, _, files in os.walk(raw / kind):
            if any(not name.startswith(".") for name in files):
                return True
    return False


@app.command()
def run(data_dir: DataDirOption = None) -> None:
    """Refresh the data directory: every layer and every year's reports (the job refresh_warehouse, in-process)."""
    paths = DataDir.resolve(data_dir)
    if not paths.root.exists():
        fail(f"the data directory {paths.root} does not exist")
    if not paths.root.is_dir():
        fail(f"the data directory {paths.root} is a file, not a folder")
    if not paths.raw.is_dir():
        fail(
            f"no raw/ folder in {paths.root}: run `ehandel generate --data-dir {paths.root}` or deliver files"
        )
    try:  # the settings a run reads, checked before Dagster starts
        memory_limit()
        log_level()
    except ValueError as error:
        fail(str(error))
    if not _has_deliveries(paths.raw):
        typer.echo(
            f"ehandel: warning: {paths.raw} holds no files under invoices/, orders/ or ubl/: "
            "the reports will have no figures",
            err=True,
        )
    from pipelines.locking import DataDirBusy, data_dir_lock

    # One run per data directory, taken before Dagster starts (seconds of imports) and held to the end.
    lock = data_dir_lock(paths.root)
    try:
        lock.__enter__()
    except DataDirBusy as busy:
        typer.echo(f"ehandel: {busy}", err=True)
        raise typer.Exit(BUSY_EXIT_CODE) from None
    except OSError as error:
        fail(f"cannot write to the data directory {paths.root}: {error.strerror or error}")
    try:
        result = _execute(paths)
    finally:
        lock.__exit__(None, None, None)
    if not result.success:
        fail(_run_failure(result))
    typer.echo(f"Report: {paths.reports / 'index.html'}")
    # The interpreter's last collections over Dagster's, GX's and Plotly's objects took ~1.3 s at exit.
    gc.freeze()


@app.command()
def generate(
    data_dir: DataDirOption = None,
    scale: Annotated[
        float, typer.Option(help="1.0 = the national volume (~78 M invoice lines a year).")
    ] = 0.02,
    years: Annotated[str, typer.Option(help="A year or a range, e.g. 2021 or 2017-2022.")] = "2017-2022",
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = 2021,
) -> None:
    """Write a deterministic synthetic national data set in the raw layout."""
    from pipelines.progress import progress_reporter
    from synthetic import generate as generate_data_set

    paths = DataDir.resolve(data_dir)
    if paths.root.exists() and not paths.root.is_dir():
        fail(f"the data directory {paths.root} is a file, not a folder")
    try:
        with progress_reporter("generate", unit="municipality-years") as report:
            summary = generate_data_set(
                paths.root, scale=scale, years=parse_years(years), seed=seed, progress=report
            )
    except OSError as error:
        fail(f"cannot write the data set under {paths.root}: {error.strerror or error} ({error.filename})")
        return
    typer.echo(
        f"Generated {summary['invoice_lines']:,} invoice lines, {summary['order_lines']:,} order lines and "
        f"{summary['xml_documents']:,} XML documents in {summary['files']:,} files under {paths.raw}"
    )


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(exists=False, help="An OIOUBL or Peppol XML document.")],
) -> None:
    """Print an XML document as the pipeline reads it, as JSON."""
    from assets.readers.ubl import inspect_file

    text, code = inspect_file(file)
    typer.echo(text)
    if code:  # the JSON says why on stdout; the one line for a person names the file
        typer.echo(f"ehandel: {file}: {json.loads(text).get('error', 'cannot be read')}", err=True)
    raise typer.Exit(code)


@app.command()
def export(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="TARGET",
            help="A folder or an fsspec URL: /srv/marts, file:///srv/marts, s3://bucket/prefix (needs s3fs).",
        ),
    ],
    data_dir: DataDirOption = None,
    public: Annotated[
        bool, typer.Option(help="Only what the reports publish: no withheld years, no raw records.")
    ] = False,
) -> None:
    """Copy the published marts to TARGET as Parquet, Hive-partitioned by year (docs/scaling.md)."""
    from pipelines.export import ExportError, export_published, published_marts_dir

    # Reads the current publication only: no run lock, the warehouse is not opened.
    paths = DataDir.resolve(data_dir)
    try:
        exported = export_published(published_marts_dir(paths), to, public=public)
    except ExportError as error:
        fail(str(error))
        return
    except Exception as error:
        # the target's file system (OS, fsspec, object storage) can fail in any way: one line, no traceback
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        fail(f"cannot export to {to}: {type(error).__name__}{': ' + message if message else ''}")
        return
    years = sorted({year for mart in exported for year in mart.years})
    by_year = sum(mart.partitioned for mart in exported)
    span = f"{years[0]}-{years[-1]}" if years else "no years"
    typer.echo(
        f"Exported {len(exported)} marts ({by_year} by year, {span}; "
        f"{sum(mart.rows for mart in exported):,} rows) to {to}"
    )


@app.command()
def bench(
    scale: Annotated[
        float, typer.Option(help="Size of the generated data set (1.0 = one national year).")
    ] = 0.1,
    years: Annotated[str, typer.Option(help="The years to generate.")] = "2021",
    runs: Annotated[
        int, typer.Option(min=1, help="Measure the bare read and the cold run this many times, alternately.")
    ] = 1,
) -> None:
    """Time a cold run against a bare DuckDB read of the same files; append the result to BENCHMARKS.md."""
    from pipelines.bench import run_benchmark

    typer.echo(run_benchmark(scale, years, runs=runs))


def main() -> None:  # pragma: no cover
    sys.exit(app())


if __name__ == "__main__":
    app()
