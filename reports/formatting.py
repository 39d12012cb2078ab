"""Danish number formats for everything the reports publish: the one place a number becomes text.

Registered as Jinja filters by ``reports.render`` and used by the figure builders for labels, so a figure
reads the same in a tile, a chart, a table and a download. A missing value (None/NaN) is shown as "–".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.numbers import NumberPattern, parse_pattern
from markupsafe import Markup

LOCALE = "da_DK"
DASH = "–"  # shown for a missing or suppressed figure
_KOMMUNEKODE = re.compile(r"^[0-9]{4}$")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, float) and math.isnan(value)


def _num(value: Any) -> float:
    return float(value) if isinstance(value, Decimal) else value


@cache
def _pattern(decimals: int) -> NumberPattern:
    """Babel's pattern for `decimals` decimals, parsed once (format_decimal parses it on every call: a report
    formats ~27,000 numbers a year)."""
    return parse_pattern("#,##0" + ("." + "0" * decimals if decimals > 0 else ""))


_LOCALE = Locale.parse(LOCALE)


def number(value: Any, decimals: int = 0) -> str:
    """1196000 -> '1.196.000'; 2.45, 1 -> '2,5'."""
    if _missing(value):
        return DASH
    # Round half up, as published statistics do (Babel alone rounds half to even: 3,25 -> 3,2).
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    rounded = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # never "-0"
    return _pattern(decimals).apply(rounded, _LOCALE)


def integer(value: Any) -> str:
    """A count: 1196000 -> '1.196.000'."""
    return number(value, 0)


def percent(value: Any, decimals: int = 1) -> str:
    """A share given as a fraction: 0.127 -> '12,7%' (one decimal, METHODS 10)."""
    if _missing(value):
        return DASH
    return number(_num(value) * 100, decimals) + "%"


def signed_percent(value: Any) -> str:
    """A growth rate with its sign: 0.046 -> '+4,6%', -0.021 -> '-2,1%'."""
    if _missing(value):
        return DASH
    text = percent(value)
    return text if text.startswith("-") or _num(value) == 0 else "+" + text


def points(value: Any) -> str:
    """A difference of two shares in percentage points: 0.014 -> '+1,4 pct.-point'."""
    if _missing(value):
        return DASH
    text = number(_num(value) * 100, 1)
    sign = "" if text.startswith("-") or _num(value) == 0 else "+"
    return f"{sign}{text} pct.-point"


def kr(value: Any) -> str:
    """An amount in whole kroner: 325 -> '325 kr.', 1234567.8 -> '1.234.568 kr.'."""
    if _missing(value):
        return DASH
    return number(value, 0) + " kr."


def kr_short(value: Any) -> str:
    """An amount for a headline: 2.4e9 -> '2,4 mia. kr.', 3.2e6 -> '3,2 mio. kr.', below that in kr."""
    if _missing(value):
        return DASH
    amount = _num(value)
    if abs(amount) >= 1e9:
        return number(amount / 1e9, 1) + " mia. kr."
    if abs(amount) >= 1e6:
        return number(amount / 1e6, 1) + " mio. kr."
    return kr(amount)


def _danish_time(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo("Europe/Copenhagen")) if moment.tzinfo else moment


def day(value: Any) -> str:
    """The Danish day of an ISO timestamp: '2026-12-01T10:00:00Z' -> 'den 1. december 2026'."""
    if _missing(value):
        return DASH
    return "den " + format_date(_danish_time(value).date(), format="long", locale=LOCALE)


def moment(value: Any) -> str:
    """The Danish day and time of an ISO timestamp: '2026-12-01T10:05:00Z' -> 'den 1. december 2026 kl. 11.05'."""
    if _missing(value):
        return DASH
    return f"{day(value)} kl. {_danish_time(value):%H.%M}"


def yes_no(value: Any) -> str:
    """A yes/no figure (1/0, True/False) in Danish."""
    return DASH if _missing(value) else ("ja" if value else "nej")


def text(value: Any) -> str:
    """Text as it is (escaping is Jinja's job); a missing value as '–'."""
    return DASH if _missing(value) else str(value)


def industry(value: Any) -> str:
    """A DB07 title as the infographic names it: 'Engroshandel undtagen med motorkøretøjer ...' -> 'Engroshandel'."""
    if _missing(value):
        return DASH
    return str(value).split(" undtagen ")[0].split(";")[0].strip()


FORMATTERS: dict[str, Callable[[Any], str]] = {
    "text": text,
    "int": integer,
    "pct": percent,
    "signed_pct": signed_percent,
    "points": points,
    "kr": kr,
    "kr_short": kr_short,
    "yes_no": yes_no,
    "year": lambda value: DASH if _missing(value) else str(int(value)),
}


def fmt(value: Any, kind: str) -> str:
    """Format by column kind (the kinds of ``FORMATTERS``); used by the table macro."""
    return FORMATTERS[kind](value)


def kommunekode(value: Any) -> str:
    """A validated 4-digit kommunekode, safe to build a file name from."""
    code = str(value)
    if not _KOMMUNEKODE.match(code):
        raise ValueError(f"kommunekode {value!r} is not 4 digits; refusing to build a file name from it")
    return code


_HEADING = re.compile(r"<(/?)h([1-6])(?=[\s>])", re.IGNORECASE)


def headings(html: Any, shift: int) -> Markup:
    """HTML with every heading moved ``shift`` levels down (h1 -> h3 for 2), h6 at most.

    For the method (docs/metode.md as HTML) placed under a page's own h1 or inside an h2 section: one h1 per
    page and an outline that nests. Text that is not already markup is escaped first.
    """
    return Markup(
        _HEADING.sub(lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + shift)}", str(Markup.escape(html)))
    )


JINJA_FILTERS: dict[str, Callable[..., str]] = {
    "industry": industry,
    "number": number,
    "integer": integer,
    "percent": percent,
    "signed_percent": signed_percent,
    "points": points,
    "kr": kr,
    "kr_short": kr_short,
    "day": day,
    "moment": moment,
    "dash": text,
    "fmt": fmt,
    "headings": headings,
}
