"""Progress of long commands: a live bar with rate and ETA on a terminal, plain log lines otherwise."""

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_reporter(title: str, unit: str = "steps") -> Iterator[Callable[[str, int, int], None]]:
    """Yield `report(label, done, total)`; renders with rich on a TTY, else a line every ~10% of the work."""
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[label]}"), TimeRemainingColumn(),
        )  # fmt: skip
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task(title, total=None, label="")

            def report(label: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, label=label)

            yield report
        return

    started = time.monotonic()
    last_decile = -1

    def report(label: str, done: int, total: int) -> None:
        nonlocal last_decile
        decile = (10 * done) // total if total else 10
        if decile == last_decile and done != total:
            return
        last_decile = decile
        elapsed = time.monotonic() - started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        print(
            f"{title}: {done}/{total} {unit} ({rate:.1f}/s, ETA {eta:.0f} s) {label}",
            file=sys.stderr,
            flush=True,
        )

    yield report
