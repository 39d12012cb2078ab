"""Every path the project uses, resolved from the project root or the data directory, never the cwd."""

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
REFERENCE_DIR = Path(__file__).resolve().parent / "reference_data"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DAGSTER_HOME = PROJECT_ROOT / ".dagster"


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
