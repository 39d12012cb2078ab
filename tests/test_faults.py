"""Faults: a run killed with SIGKILL, two runs on one data directory, atomic publication, leftovers of a killed
run. Real `ehandel run` processes on real DuckDB files under tmp_path."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from pipelines import publication
from pipelines.definitions import build_definitions
from pipelines.locking import DataDirBusy, data_dir_lock
from pipelines.settings import PROJECT_ROOT, DataDir
from tests.test_end_to_end import tiny_data_set
from tests.test_incremental import FIGURE_MARTS, mart_bytes

BUSY_LINE = "ehandel: another run is using "


def start_run(root: Path) -> subprocess.Popen:
    """`ehandel run --data-dir root` as its own process group, output merged and line-buffered."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", "--data-dir", str(root)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # DEBUG: the step events (STEP_START of each SQL asset) tell the test where the run is
        env={**os.environ, "PYTHONUNBUFFERED": "1", "EHANDEL_LOG_LEVEL": "DEBUG"},
        start_new_session=True,
    )


def run_cli(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--data-dir", str(root)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )


def wait_for_line(process: subprocess.Popen, needle: str) -> list[str]:
    """Read the process's output until a line holds `needle`; the lines read so far."""
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"the run ended before '{needle}':\n{''.join(seen[-30:])}")


def run_job(root: Path):
    job = build_definitions(str(root)).resolve_job_def("refresh_warehouse")
    with DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)


def copy_raw(source: Path, target: Path) -> None:
    shutil.copytree(source / "raw", target / "raw")  # copy2: mtimes kept, so the same delivery order


def kill_group(process: subprocess.Popen) -> None:
    """Whatever the killed run left running (its XML parser pool) goes too, by its process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


@pytest.fixture(scope="module")
def synthetic_raw(tmp_path_factory) -> Path:
    from synthetic import generate

    root = tmp_path_factory.mktemp("synthetic") / "data"
    generate(root, scale=0.005, years=[2021])
    return root


@pytest.fixture(scope="module")
def uninterrupted(synthetic_raw, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("uninterrupted") / "data"
    copy_raw(synthetic_raw, root)
    done = run_cli(root)
    assert done.returncode == 0, done.stderr[-3000:]
    return root


@pytest.mark.parametrize("moment", ["ingest", "marts"])
def test_a_run_killed_mid_way_then_a_clean_run_gives_the_same_figures(
    synthetic_raw, uninterrupted, tmp_path, moment
):
    root = tmp_path / "data"
    copy_raw(synthetic_raw, root)
    # 'ingest': while CSV batches are being loaded; 'marts': while the SQL layers are being rebuilt.
    needle = "CSV files " if moment == "ingest" else "intermediate__"
    process = start_run(root)
    try:
        wait_for_line(process, needle)
        os.kill(process.pid, signal.SIGKILL)  # the run only, as `kill -9 <pid>` would
        assert process.wait(timeout=60) == -signal.SIGKILL
    finally:
        kill_group(process)
    assert (root / "marts/warehouse.duckdb").exists()
    # The next run takes the lock at once (the kernel released it) and completes.
    done = run_cli(root)
    assert done.returncode == 0, done.stderr[-3000:]
    assert mart_bytes(root) == mart_bytes(uninterrupted)
    with duckdb.connect() as con:
        ingest_logs = [
            con.execute(
                "select source_file, status, rows_read, rows_accepted, rows_quarantined from read_parquet(?) "
                "order by all",
                [str(r / "marts/ingest_log.parquet")],
            ).fetchall()
            for r in (root, uninterrupted)
        ]
    assert ingest_logs[0] == ingest_logs[1]
    assert not list((root / "cache" / "tmp").glob("*")) if (root / "cache" / "tmp").exists() else True
    assert [p.name for p in root.iterdir() if p.name.startswith((".reports-", ".marts-"))] == []


def test_two_runs_at_once_one_completes_the_other_says_why(synthetic_raw, uninterrupted, tmp_path):
    root = tmp_path / "data"
    copy_raw(synthetic_raw, root)
    first = start_run(root)
    try:
        wait_for_line(first, "CSV files ")  # the first run holds the lock now
        second = run_cli(root)
        first_output, _ = first.communicate(timeout=900)
    finally:
        kill_group(first)
    assert first.returncode == 0, first_output[-3000:]
    assert second.returncode == 75
    (line,) = second.stderr.strip().splitlines()
    assert line.startswith(BUSY_LINE + str(root)) and f"(pid {first.pid}, started " in line
    assert line.endswith("try again when it has finished")
    assert mart_bytes(root) == mart_bytes(uninterrupted)


def test_the_lock_is_per_data_directory_and_refuses_a_dagster_run_too(tmp_path):
    one, other = tmp_path / "one", tmp_path / "other"
    tiny_data_set(one)
    tiny_data_set(other)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pipelines.locking import data_dir_lock\n"
         f"with data_dir_lock({str(one)!r}):\n    print('held', flush=True); time.sleep(600)"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_line(holder, "held")
        with pytest.raises(DataDirBusy, match=f"pid {holder.pid}"), data_dir_lock(one):
            pass
        refused = run_job(one)  # a run launched from the UI, a schedule or the sensor
        assert not refused.success
        assert not (one / "marts").exists()  # refused before it touched anything
        assert run_job(other).success  # another data directory is not blocked
    finally:
        kill_group(holder)
    # The holder was killed: the kernel released its lock.
    assert run_job(one).success


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    with data_dir_lock(tmp_path):
        with data_dir_lock(tmp_path):
            pass
        assert "pid " in (tmp_path / ".ehandel.lock").read_text()
    with data_dir_lock(tmp_path):
        pass


# --- atomic publication ---------------------------------------------------------------------------------


def published_run(root: Path) -> str:
    return publication.current_publication(DataDir.resolve(root)).name  # type: ignore[union-attr]


def test_publication_is_one_switch_and_a_failed_run_keeps_the_previous_one(tmp_path):
    root = tmp_path / "data"
    tiny_data_set(root)
    first = run_job(root)
    assert first.success
    paths = DataDir.resolve(root)
    assert published_run(root) == first.run_id
    # Marts and reports are reached through the one pointer; the warehouse is a plain file.
    assert (root / "reports").is_symlink() and os.readlink(root / "reports") == ".publication/reports"
    for name in (*FIGURE_MARTS, "manifest"):
        link = paths.marts / (f"{name}.parquet" if name != "manifest" else "manifest.json")
        assert link.is_symlink() and os.readlink(link).startswith("../.publication/marts/")
    assert paths.warehouse.is_file() and not paths.warehouse.is_symlink()
    assert '"run_id": "' + first.run_id in (paths.marts / "manifest.json").read_text()
    before = mart_bytes(root)
    index_before = (root / "reports/index.html").read_bytes()

    # A run that fails after its marts were exported (the site cannot render): nothing of it is visible.
    (root / "raw/invoices/0159/2022.csv").write_text(
        (root / "raw/invoices/0159/2021.csv").read_text().replace("2021-", "2022-"), encoding="utf-8"
    )
    from reports import render

    original = render.render_site
    render.render_site = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("renderer broke"))
    try:
        failed = run_job(root)
    finally:
        render.render_site = original
    assert not failed.success
    assert published_run(root) == first.run_id
    assert mart_bytes(root) == before and (root / "reports/index.html").read_bytes() == index_before
    assert '"run_id": "' + first.run_id in (paths.marts / "manifest.json").read_text()

    # The next run cleans the failed run's half publication and switches both at once.
    second = run_job(root)
    assert second.success
    assert published_run(root) == second.run_id
    assert mart_bytes(root) != before  # the 2022 invoices are in
    assert '"run_id": "' + second.run_id in (paths.marts / "manifest.json").read_text()
    kept = sorted(p.name for p in (root / publication.PUBLICATIONS).iterdir())
    assert kept == sorted([first.run_id, second.run_id])  # the current one and the previous one


def test_the_first_versioned_publication_replaces_a_plain_layout(tmp_path):
    """A data directory published before versioned publications (plain files and folder) is taken over."""
    root = tmp_path / "data"
    tiny_data_set(root)
    (root / "reports/2019").mkdir(parents=True)
    (root / "reports/2019/index.html").write_text("old", encoding="utf-8")
    (root / "marts").mkdir()
    (root / "marts/kpi_national.parquet").write_bytes(b"old")
    assert run_job(root).success
    assert (root / "reports").is_symlink() and not (root / "reports/2019").exists()
    assert (root / "marts/kpi_national.parquet").is_symlink()
    assert [p.name for p in root.iterdir() if p.name.startswith(".reports")] == []


def test_leftovers_of_a_killed_run_are_cleared_by_the_next(tmp_path):
    root = tmp_path / "data"
    tiny_data_set(root)
    leftovers = [
        root / "cache/tmp/0123abcd.csv",
        root / "marts/.publishing-deadbeef/kpi_national.parquet",
        root / ".reports-deadbeef/index.html",
        root / ".marts-deadbeef/kpi_national.parquet",
        root / ".publications/deadbeef/marts/kpi_national.parquet",  # never completed
    ]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half written", encoding="utf-8")
    os.symlink("nowhere", root / "..publication.tmp-link-12345")
    result = run_job(root)
    assert result.success
    for path in leftovers:
        assert not path.exists(), path
    assert not (root / "marts/.publishing-deadbeef").exists() and not (root / ".reports-deadbeef").exists()
    assert not os.path.lexists(root / "..publication.tmp-link-12345")
    assert sorted(p.name for p in (root / ".publications").iterdir()) == [result.run_id]


def test_every_published_path_resolves_into_one_publication(tmp_path):
    """Marts and reports are reached through the one pointer: a reader resolves them all to one run."""
    root = tmp_path / "data"
    tiny_data_set(root)
    for _ in range(2):
        assert run_job(root).success
    paths = DataDir.resolve(root)
    current = publication.current_publication(paths)
    assert current is not None and (current / publication.COMPLETE).exists()
    for name in FIGURE_MARTS:
        assert (paths.marts / f"{name}.parquet").resolve().parent == current / "marts"
    assert (paths.reports / "index.html").resolve().parent == current / "reports"
