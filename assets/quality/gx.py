"""Great Expectations 1.x, pandas path, one ephemeral context per process, imported only when a check runs.

GX has no working DuckDB backend (STACK_NOTES): callers hand it a pandas frame of a bounded table (a file's
value profile, a mart). Each expectation carries `meta={"check": <check_name>}` so that several expectations
can make one published check.
"""

import json
import math
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import pandas as pd


@dataclass
class Outcome:
    """What GX found for one expectation: success, and the frame rows (index) that break it."""

    check_name: str
    expectation: str
    column: str | None
    success: bool
    unexpected_index: list[int] = field(default_factory=list)
    observed: Any = None
    error: str | None = None


_CONTEXT_LOCK = threading.Lock()


def warm_up() -> None:
    """Import GX and make its context in a background thread, started once the raw folder is scanned.

    Importing GX costs ~3 s of Python that the first check would otherwise wait for; the run's first minutes
    are DuckDB reading files with the GIL released, so the import mostly runs on time that is idle anyway.
    The first check waits for the thread only if it has not finished."""
    threading.Thread(target=_batch_definition, name="gx-warm-up", daemon=True).start()


def _batch_definition():
    with _CONTEXT_LOCK:
        return _new_batch_definition()


@cache
def _new_batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("ehandel")
    return context, source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")


def expectations():
    """The module `great_expectations.expectations` (lazy)."""
    import great_expectations as gx

    return gx.expectations


_suite_counter = 0


def validate(frame: pd.DataFrame, expectation_list: list) -> list[Outcome]:
    """Validate `frame` against the expectations in one GX run; COMPLETE results, to name the offending rows."""
    import great_expectations as gx

    global _suite_counter
    _, batch_definition = _batch_definition()
    _suite_counter += 1
    suite = gx.ExpectationSuite(name=f"suite_{_suite_counter}", expectations=expectation_list)
    frame = frame.reset_index(drop=True)
    result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(
        suite, result_format={"result_format": "COMPLETE"}
    )
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        error = None
        if item.exception_info and item.exception_info.get("raised_exception"):
            error = str(item.exception_info.get("exception_message"))[:300]
        assert config is not None  # every result of a suite run names its expectation
        outcomes.append(
            Outcome(
                check_name=(config.meta or {}).get("check", config.type),
                expectation=config.type,
                column=config.kwargs.get("column"),
                success=bool(item.success),
                unexpected_index=[int(i) for i in (item.result or {}).get("unexpected_index_list") or []],
                observed=(item.result or {}).get("observed_value"),
                error=error,
            )
        )
    return outcomes


def plain(value: Any) -> Any:
    """A JSON-friendly Python value of a frame cell (dates as ISO text, decimals and numpy numbers as floats)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return (
            value.date().isoformat()
            if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
            else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "item"):
        return plain(value.item())  # type: ignore[union-attr]  # numpy scalars
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def to_json(details: dict) -> str:
    return json.dumps(details, ensure_ascii=False, default=str)
