"""Every path and setting the project uses: paths resolved from the project root or the data directory (never the
cwd), and the environment variables it reads, each read here and nowhere else.

Environment variables (README, "Settings"):
- EHANDEL_DATA_DIR: the data directory when no --data-dir is given (default: data/ of the project);
- EHANDEL_MEMORY_LIMIT: DuckDB's memory budget, e.g. 8GB (default 4GB); DuckDB spills the rest to disk;
- EHANDEL_LOG_LEVEL: the terminal log level of `ehandel run` (default INFO; DEBUG shows every Dagster event);
- EHANDEL_CODE_VERSION: the code version a publication records, for an image built without .git;
- DAGSTER_HOME: the Dagster instance folder (default .dagster/ of the project).
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
REFERENCE_DIR = Path(__file__).resolve().parent / "reference_data"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DAGSTER_HOME = PROJECT_ROOT / ".dagster"
# DuckDB's own default is 80% of the machine's memory; a national year stays within 6 GiB only when DuckDB is
# held to a budget and spills the rest to disk (next to the warehouse file).
DEFAULT_MEMORY_LIMIT = "4GB"


def memory_limit() -> str:
    """DuckDB's memory budget: $EHANDEL_MEMORY_LIMIT, else DEFAULT_MEMORY_LIMIT."""
    limit = os.environ.get("EHANDEL_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit, flags=re.IGNORECASE):
        raise ValueError(f"EHANDEL_MEMORY_LIMIT={limit!r} is not a size such as 4GB")
    return limit


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level() -> str:
    """The terminal log level of `ehandel run`: $EHANDEL_LOG_LEVEL, else INFO."""
    level = os.environ.get("EHANDEL_LOG_LEVEL", "INFO").upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"EHANDEL_LOG_LEVEL={level!r} is not one of {', '.join(LOG_LEVELS)}")
    return level


def code_version_override() -> str | None:
    """$EHANDEL_CODE_VERSION: the commit an image built without .git passes in (deploy/Dockerfile)."""
    return os.environ.get("EHANDEL_CODE_VERSION") or None


def dagster_home() -> Path:
    """$DAGSTER_HOME, else the project's .dagster/, as an absolute path."""
    return Path(os.environ.get("DAGSTER_HOME") or DAGSTER_HOME).resolve()


@dataclass(frozen=True)
class DataDir:
    """One data directory: raw inputs, the warehouse and published marts, the reports."""

    root: Path

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> "DataDir":
        chosen = data_dir or os.environ.get("EHANDEL_DATA_DIR") or DEFAULT_DATA_DIR
        return cls(Path(chosen).expanduser().resolve())

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def marts(self) -> Path:
        return self.root / "marts"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def warehouse(self) -> Path:
        return self.marts / "warehouse.duckdb"

    @property
    def scratch(self) -> Path:
        """Temporary files of a run (transcoded CSV); never published."""
        return self.root / "cache" / "tmp"
