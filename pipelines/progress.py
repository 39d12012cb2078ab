"""Progress of long commands: a live bar with rate and ETA on a terminal, plain log lines otherwise.

A command holds `live_progress` open while it works: on a terminal each long phase (`ehandel run`: hashing the
files, CSV files, XML documents, SQL tables, report pages; `ehandel generate`: the municipality-years) moves a live
bar through `show`, and anything the command logs meanwhile prints above the bars. Anywhere else (`make dev`, a
pipe, a test) `show` returns False and the phase logs a plain line instead (`TenthsLog` where the work is many
equal steps).
"""

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_live: Callable[[str, float, float, str], None] | None = None  # set while a command draws on a terminal


@contextmanager
def live_progress() -> Iterator[None]:
    """On a terminal, a live bar per phase until the block ends (and nothing otherwise)."""
    global _live
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (
        TextColumn("[bold]{task.description:<13}"), BarColumn(bar_width=30), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[detail]}"),
    )  # fmt: skip
    # redirect_stderr: log lines written to sys.stderr as they come (Dagster's) print above the bars
    with Progress(*columns, console=Console(stderr=True), redirect_stderr=True) as bars:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: float, total: float, detail: str) -> None:
            if phase not in tasks:
                tasks[phase] = bars.add_task(phase, total=total, detail=detail)
            bars.update(tasks[phase], completed=done, total=total, detail=detail)

        _live = update
        try:
            yield
        finally:
            _live = None


def show(phase: str, done: float, total: float, detail: str = "") -> bool:
    """Move the live bar of `phase` to done/total (any unit; the ETA follows its rate). False when no bar is drawn:
    the caller logs its plain line instead."""
    if _live is None:
        return False
    _live(phase, done, total, detail)
    return True


class TenthsLog:
    """Plain progress lines for a pipe or a log: one as each tenth of the work is done, with rate and ETA (or the
    seconds so far, where the steps differ too much in size for a rate to mean anything)."""

    def __init__(self, title: str, unit: str, eta: bool = True) -> None:
        self.title, self.unit, self.eta = title, unit, eta
        self.started = time.monotonic()
        self.last_tenth = -1

    def log(self, done: int, total: int, label: str, log: Callable[[str], None]) -> None:
        tenth = (10 * done) // total if total else 10
        if tenth == 0 or (tenth == self.last_tenth and done != total):
            return
        self.last_tenth = tenth
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        timing = f"{rate:.1f}/s, ETA {eta:.0f} s" if self.eta else f"{elapsed:.1f} s so far"
        log(f"{self.title}: {done}/{total} {self.unit} ({timing}) {label}")


@contextmanager
def progress_reporter(title: str, unit: str = "steps") -> Iterator[Callable[[str, int, int], None]]:
    """Yield `report(label, done, total)` for a command of one phase (`ehandel generate`): its live bar on a
    terminal, else a line on stderr as each tenth is done."""
    tenths = TenthsLog(title, unit)

    def report(label: str, done: int, total: int) -> None:
        if not show(title, done, total, f"{done:,}/{total:,} {unit} {label}"):
            tenths.log(done, total, label, lambda line: print(line, file=sys.stderr, flush=True))

    with live_progress():
        yield report
