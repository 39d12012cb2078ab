"""One run at a time per data directory: an OS file lock on DIR/.ehandel.lock, held for the whole run.

A POSIX record lock (fcntl.lockf) is released by the kernel when the process dies (SIGKILL included), so a
killed run never leaves a stale lock, and unlike flock it is not inherited by forked children (the XML parser
pool), which could outlive a killed parent. The pid and start time written into the file only serve the
message of the run that is refused.
`ehandel run` takes the lock before Dagster starts; the Warehouse resource takes it too when a Dagster run
starts (UI, schedule, sensor) and keeps it until its process ends (`hold_until_exit`): Dagster gives each
launched run a process of its own, and a resource with a teardown would have to be opened as a context manager
everywhere (sensor evaluations too). Within one process the lock is re-entrant (a depth count); the lock file is
opened once per process, because closing any descriptor of it would drop a POSIX lock.
"""

import errno
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

LOCK_NAME = ".ehandel.lock"

_held: dict[Path, tuple[int, int]] = {}  # lock file -> (fd, depth) in this process
_guard = threading.Lock()


class DataDirBusy(RuntimeError):
    """Another process is running the pipeline on this data directory; the message is one line for a human."""


def lock_path(root: Path) -> Path:
    return Path(root) / LOCK_NAME


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return f" ({text})" if text else ""


@contextmanager
def data_dir_lock(root: Path) -> Iterator[None]:
    """Hold DIR's run lock, or raise DataDirBusy at once when another process holds it."""
    path = lock_path(root).resolve()
    with _guard:
        if path in _held:
            fd, depth = _held[path]
            _held[path] = (fd, depth + 1)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                os.close(fd)
                if error.errno not in (errno.EACCES, errno.EAGAIN):
                    raise
                raise DataDirBusy(
                    f"another run is using {path.parent}{_holder(path)}; try again when it has finished"
                ) from None
            # Who holds it, for the message of a refused run; the lock itself is the truth.
            os.ftruncate(fd, 0)
            started = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
            os.pwrite(fd, f"pid {os.getpid()}, started {started}\n".encode(), 0)
            _held[path] = (fd, 1)
    try:
        yield
    finally:
        with _guard:
            fd, depth = _held[path]
            if depth > 1:
                _held[path] = (fd, depth - 1)
            else:
                del _held[path]
                os.ftruncate(fd, 0)
                os.close(fd)  # releases the lock


_kept: set[Path] = set()


def hold_until_exit(root: Path) -> None:
    """Take DIR's run lock for the rest of this process's life (or raise DataDirBusy); the kernel releases it."""
    path = lock_path(root).resolve()
    if path in _kept:
        return
    lock = data_dir_lock(root)
    lock.__enter__()
    _kept.add(path)
