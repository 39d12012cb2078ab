"""What a publication is stamped with, and how its files are put in place."""

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.settings import PROJECT_ROOT, REFERENCE_DIR, DataDir, code_version_override
from pipelines.warehouse import sql_literal


def code_version() -> str:
    """The git commit of the code (with '-dirty' when it has local changes), else the package version.

    $EHANDEL_CODE_VERSION wins: an image built without .git (deploy/Dockerfile) passes its commit in."""
    if override := code_version_override():
        return override
    try:
        sha = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        return f"{sha}-dirty" if dirty else sha
    except (OSError, subprocess.SubprocessError):
        from importlib.metadata import version

        return f"ehandel {version('ehandel')}"


def input_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """sha256 over every delivered content (path and hash) and the shipped reference tables."""
    digest = hashlib.sha256()
    for source_file, file_id in con.execute(
        "select source_file, file_id from ingest.deliveries order by source_file"
    ).fetchall():
        digest.update(f"{source_file}\t{file_id}\n".encode())
    for path in sorted(REFERENCE_DIR.glob("*.csv")):
        digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def utc_timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def manifest(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, str]:
    return {
        "input_fingerprint": input_fingerprint(con),
        "code_version": code_version(),
        "run_id": run_id,
        "generated_at": utc_timestamp(),
    }


def published_mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_name like 'mart\\_%' escape '\\' order by table_name"
        ).fetchall()
    ]


def export_marts(con: duckdb.DuckDBPyConnection, data_dir: DataDir, staging: Path) -> dict[str, int]:
    """Write every marts.mart_<name> table to <staging>/<name>.parquet, rows in a stable order."""
    staging.mkdir(parents=True, exist_ok=True)
    counts = {}
    for table in published_mart_tables(con):
        name = table.removeprefix("mart_")
        target = staging / f"{name}.parquet"
        con.execute(
            f"copy (select * from marts.{table} order by all) to {sql_literal(target.as_posix())} "
            "(format parquet, compression zstd)"
        )
        counts[name] = int(con.execute(f"select count(*) from marts.{table}").fetchone()[0])  # type: ignore[index]
    return counts


# --- atomic publication -----------------------------------------------------------------------------------
#
# A publication is one directory DIR/.publications/<run_id>/ holding marts/ (the Parquet marts, manifest.json)
# and reports/ (the site). Readers reach the current one through one symlink, DIR/.publication, and stable
# relative links that never change once made:
#     DIR/reports                 -> .publication/reports
#     DIR/marts/<name>.parquet    -> ../.publication/marts/<name>.parquet   (and manifest.json)
#     DIR/.publication            -> .publications/<run_id>                 (replaced by os.replace: atomic)
# So a run switches marts and reports together in one rename, and only after both are complete; a run that
# fails or is killed before that leaves the previous publication untouched. DIR/marts/warehouse.duckdb stays a
# plain file. The previous publication is kept (a reader may still be opening its files); older ones go.

PUBLICATIONS = ".publications"
POINTER = ".publication"
COMPLETE = ".complete"
PUBLISHED_SUFFIXES = (".parquet",)
PUBLISHED_NAMES = ("manifest.json",)


def publication_dir(data_dir: DataDir, run_id: str, year: int | None = None) -> Path:
    """Where a run writes its publication before it is switched in: `<run_id>` for the refresh (marts and every
    page), `<run_id>-<year>` for a year re-published (reports/year_report). The two differ, so a run that
    publishes both (the UI's "Materialize all" with a year) never clears the publication it has just switched in."""
    return data_dir.root / PUBLICATIONS / (run_id if year is None else f"{run_id}-{year}")


def current_publication(data_dir: DataDir) -> Path | None:
    pointer = data_dir.root / POINTER
    if not pointer.is_symlink():
        return None
    target = (data_dir.root / os.readlink(pointer)).resolve()
    return target if target.is_dir() else None


def _published_files(marts: Path) -> list[Path]:
    return sorted(p for p in marts.iterdir() if p.suffix in PUBLISHED_SUFFIXES or p.name in PUBLISHED_NAMES)


def _replace_with_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` in one rename (a new link replaces the old link or a plain file)."""
    if link.is_symlink() and os.readlink(link) == target:
        return
    temporary = link.with_name(f".{link.name}.tmp-link-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    os.replace(temporary, link)


def publish(data_dir: DataDir, new: Path) -> None:
    """Make the complete publication `new` (with marts/ and reports/) the current one, atomically."""
    root = data_dir.root
    assert (new / "marts" / "manifest.json").is_file() and (new / "reports").is_dir(), new
    (new / COMPLETE).touch()
    os.sync()  # the files reach the disk before the switch that names them (power loss; a kill needs nothing)
    previous = current_publication(data_dir)
    _replace_with_symlink(root / POINTER, f"{PUBLICATIONS}/{new.name}")  # <- the publication happens here
    # The stable links (no-ops after the first publication; a mart that is new gets its link now).
    data_dir.marts.mkdir(parents=True, exist_ok=True)
    names = {p.name for p in _published_files(new / "marts")}
    for name in sorted(names):
        _replace_with_symlink(data_dir.marts / name, f"../{POINTER}/marts/{name}")
    for link in data_dir.marts.iterdir():
        if link.is_symlink() and os.readlink(link).startswith(f"../{POINTER}/") and link.name not in names:
            link.unlink()  # a mart that is no longer made
    reports = data_dir.reports
    if reports.exists() and not reports.is_symlink():  # a plain folder from before versioned publications
        legacy = root / f".reports-legacy-{new.name}"
        os.replace(reports, legacy)
        _replace_with_symlink(reports, f"{POINTER}/reports")
        shutil.rmtree(legacy, ignore_errors=True)
    else:
        _replace_with_symlink(reports, f"{POINTER}/reports")
    keep = {new.resolve(), previous.resolve() if previous else None}
    for old in (root / PUBLICATIONS).iterdir():
        if old.resolve() not in keep:
            shutil.rmtree(old, ignore_errors=True)


def copy_current_marts(data_dir: DataDir, target: Path) -> None:
    """The published marts as they are now, copied into `target` (a run that renders without exporting)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in _published_files(data_dir.marts):
        if path.exists():
            shutil.copyfile(path, target / path.name)


def copy_current_reports(data_dir: DataDir, target: Path, leave_out: Collection[str] = ()) -> None:
    """The current publication's reports in `target`, except the top-level entries named in `leave_out`.

    Files are hard-linked where the file system allows: a published file is never written again (every run
    renders into a fresh folder), so two publications may share it, and a year re-published at national scale
    does not copy the pages of every other year.
    """
    current = current_publication(data_dir)
    if current is None or not (current / "reports").is_dir():
        raise FileNotFoundError(f"nothing is published in {data_dir.root} yet: run refresh_warehouse first")

    def link_or_copy(source: str, destination: str) -> None:
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)

    shutil.copytree(
        current / "reports",
        target,
        ignore=lambda folder, names: [
            n for n in names if Path(folder) == current / "reports" and n in leave_out
        ],
        copy_function=link_or_copy,
        dirs_exist_ok=True,
    )


def clean_leftovers(data_dir: DataDir) -> list[Path]:
    """Remove what a failed or killed run left behind; only called while holding DIR's run lock.

    Incomplete publications, the temporary folders and links of earlier layouts, scratch files (transcoded
    CSV). The current and the previous complete publication stay. Returns what was removed.
    """
    root = data_dir.root
    current = current_publication(data_dir)
    leftovers: list[Path] = []
    if (root / PUBLICATIONS).is_dir():
        leftovers += [
            p
            for p in (root / PUBLICATIONS).iterdir()
            if not (p / COMPLETE).exists() and (current is None or p.resolve() != current)
        ]
    for folder, patterns in (
        (root, (".reports-*", ".marts-*", ".reports.old", ".*.tmp-link-*")),
        (data_dir.marts, (".publishing-*", ".*.tmp-link-*")),
    ):
        if folder.is_dir():
            leftovers += [p for pattern in patterns for p in folder.glob(pattern)]
    if data_dir.scratch.is_dir():
        leftovers += list(data_dir.scratch.iterdir())
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return leftovers


# --- what may be published ------------------------------------------------------------------------------
#
# Every way out of the warehouse that the public sees (reports/site, reports/year_report, `ehandel export
# --public`) takes the same public copy of the marts: the years a failed ERROR check withholds left out, and no
# personal data. Each caller decides what a withheld year means for it (a failed step, an export error).


def withheld_years(checks_parquet: Path) -> dict[int | None, str]:
    """Years that must not be published: {year: one-line reason}; key None = every year.

    A failed ERROR check on an intermediate or mart table withholds the years it names; one that names no
    year withholds every year. File checks (ingest) have had their consequence already: the file is kept out.
    """
    if not checks_parquet.exists():
        return {}
    with duckdb.connect() as con:
        failed = con.execute(
            "select check_name, asset, years from read_parquet(?) "
            "where severity = 'ERROR' and not passed and not starts_with(asset, 'ingest/') order by check_name",
            [str(checks_parquet)],
        ).fetchall()
    withheld: dict[int | None, str] = {}
    for name, asset_path, years in failed:
        for year in years or [None]:
            reason = f"ERROR check {name} on {asset_path} failed"
            withheld[year] = withheld[year] + "; " + reason if year in withheld else reason
    return withheld


def publishable_marts(
    marts_dir: Path, target: Path, withheld: set[int], previous_public: Path | None = None
) -> Path:
    """A copy of marts_dir's Parquet marts without the rows of the withheld years, for the report renderer. A
    withheld year that `previous_public` (the public copy of the publication this one replaces) shows keeps its
    rows from there: the year stays as it was published. The year after a withheld one has no growth figures
    (`growth_*`: they compare with the figures held back). revisions.parquet is copied as it is (every row of it
    was public already)."""
    target.mkdir(parents=True, exist_ok=True)
    years = sorted(withheld)
    with duckdb.connect() as con:
        for path in sorted(marts_dir.glob("*.parquet")):
            if path.name == REVISIONS:
                shutil.copyfile(path, target / path.name)
                continue
            columns = [
                r[0] for r in con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
            ]
            query, parameters = "select * from read_parquet($new)", {"new": str(path)}
            if "year" in columns:
                # growth against a withheld year would publish a figure built on the figures held back
                growth = [c for c in columns if c.startswith("growth_")]
                if growth and years:
                    nulls = ", ".join(
                        f"case when year - 1 in (select unnest($years::integer[])) then null else {c} end as {c}"
                        for c in growth
                    )
                    query = f"select * replace ({nulls}) from read_parquet($new)"
                query += " where year is null or year not in (select unnest($years::integer[]))"
                parameters["years"] = years  # type: ignore[assignment]
                kept = previous_public / path.name if previous_public else None
                if kept and kept.exists():
                    query += (
                        " union all by name select * from read_parquet($kept) "
                        "where year in (select unnest($years::integer[]))"
                    )
                    parameters["kept"] = str(kept)
            out = sql_literal((target / path.name).as_posix())
            con.execute(f"copy ({query}) to {out} (format parquet, compression zstd)", parameters)
    return target


# A value quoted inside a reason: "fakturadato 'Jens Hansen' is not a date".
QUOTED_VALUE = r"'[^']*'"


def strip_personal_data(marts: Path) -> None:
    """What the renderer sees may be published: no raw record, and no value quoted inside a reason.

    A shifted column can put an employee's name where a date or amount belongs, and the reason quotes it
    (docs/metode.md "Persondata"). The internal DIR/marts/quarantine.parquet keeps both.
    """
    path = marts / "quarantine.parquet"
    if not path.exists():
        return
    stripped = path.with_name(".quarantine.parquet")
    with duckdb.connect() as con:
        columns = {
            r[0] for r in con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
        }
        selected = [c for c in ("source_file", "line_number", "year") if c in columns]
        if "reason" in columns:
            selected.append("regexp_replace(reason, $pattern, '''…''', 'g') as reason")
        target = sql_literal(stripped.as_posix())
        con.execute(
            f"copy (select {', '.join(selected) or 'count(*) as rows'} from read_parquet($path)) "
            f"to {target} (format parquet)",
            {"pattern": QUOTED_VALUE, "path": str(path)},
        )
    os.replace(stripped, path)


PUBLIC = "public"  # a publication's public copy of its marts: what its reports and downloads show
HELD_BACK = "held_back.json"  # in a public copy: the withheld years it shows as an earlier publication did


def public_copy(
    marts: Path, target: Path, withheld: dict[int | None, str], previous_public: Path | None = None
) -> Path:
    """The public copy of `marts` in `target`, with its manifest.json: withheld years' rows out, then personal
    data out. A withheld year that `previous_public` shows is held back instead: it keeps the figures published
    before. held_back.json names those years with the stamp of the publication that first showed their figures
    and the reason, and the years published without their growth figures."""
    years = {year for year in withheld if year is not None}
    public = publishable_marts(marts, target, years, previous_public)
    strip_personal_data(public)
    shutil.copyfile(marts / "manifest.json", public / "manifest.json")
    held_back: dict[str, dict[str, str]] = {}
    if previous_public is not None and (previous_public / "kpi_national.parquet").exists():
        before = json.loads((previous_public / "manifest.json").read_text(encoding="utf-8"))
        earlier = held_back_years(previous_public)
        for year in sorted(years & _years(previous_public / "kpi_national.parquet")):
            shown = earlier[year] if year in earlier else {k: before[k] for k in SHOWN_STAMP}
            held_back[str(year)] = {**{k: shown[k] for k in SHOWN_STAMP}, "reason": withheld[year]}
    published = _years(public / "kpi_national.parquet")
    no_growth = {str(y + 1): y for y in sorted(years) if y + 1 in published and y + 1 not in years}
    if held_back or no_growth:
        (public / HELD_BACK).write_text(
            json.dumps({"held_back": held_back, "no_growth": no_growth}, indent=2), encoding="utf-8"
        )
    return public


# what held_back.json keeps of the publication whose figures a held-back year shows
SHOWN_STAMP = ("generated_at", "run_id", "input_fingerprint", "code_version")


def held_back_years(public: Path) -> dict[int, dict[str, str]]:
    """The years a public copy shows as an earlier publication did: {year: that publication's SHOWN_STAMP and
    the reason}."""
    path = public / HELD_BACK
    if not path.exists():
        return {}
    return {int(y): v for y, v in json.loads(path.read_text(encoding="utf-8"))["held_back"].items()}


def years_without_growth(public: Path) -> dict[int, int]:
    """The years a public copy publishes without growth figures: {year: the withheld year before it}."""
    path = public / HELD_BACK
    if not path.exists():
        return {}
    return {int(y): int(v) for y, v in json.loads(path.read_text(encoding="utf-8"))["no_growth"].items()}


def previous_public_copy(previous: Path | None, scratch: Path) -> Path | None:
    """The public copy of the publication `previous` (None: there is none), copied into `scratch` (so that a
    run may rewrite `previous` itself). A publication from before public copies were kept gets one made from
    its marts and its withheld years."""
    if previous is None or not (previous / "marts" / "manifest.json").exists():
        return None
    shutil.rmtree(scratch, ignore_errors=True)
    if (previous / PUBLIC).is_dir():
        shutil.copytree(previous / PUBLIC, scratch)
        return scratch
    withheld = withheld_years(previous / "marts" / "checks.parquet")
    return public_copy(previous / "marts", scratch, {y: r for y, r in withheld.items() if y is not None})


# --- revisions: the headline figures a publication changed ---------------------------------------------------
#
# A late or corrected delivery changes figures that were already published. Each publication compares its
# headline figures with the publication it replaces, for the years both publish, and lists every figure that
# changed in revisions.parquet with both values. The list is cumulative: each publication carries the previous
# one's rows forward, so the file holds every revision since the first publication (docs/metode.md
# "Revisioner"). What is compared is what the public saw and what it will see: the two public copies. A year held
# back shows the same figures in both; once released, its new figures are compared with those it showed.

REVISION_MEASURES = {
    "kpi_national": (
        "participating_municipalities", "goods_spend_kr", "ehandel_spend_kr", "share_spend", "goods_purchases",
        "ehandel_purchases", "share_purchases", "growth_ehandel_spend", "fakturamatch_rate",
    ),
    "kpi_municipality": (
        "participating", "goods_spend_kr", "ehandel_spend_kr", "share_spend", "goods_purchases",
        "ehandel_purchases", "share_purchases", "growth_ehandel_spend", "fakturamatch_rate",
    ),
}  # fmt: skip
REVISIONS = "revisions.parquet"
REVISION_COLUMNS = """
    revised_at varchar, run_id varchar, previous_published_at varchar, previous_run_id varchar,
    input_changed boolean, code_changed boolean, year integer, kommunekode varchar, kommunenavn varchar,
    measure varchar, previous_value double, new_value double, held_back_year integer
"""


def _years(parquet: Path) -> set[int]:
    with duckdb.connect() as con:
        return {
            int(y)
            for (y,) in con.execute("select distinct year from read_parquet(?)", [str(parquet)]).fetchall()
        }


def _headline_figures(table: str, parameter: str) -> str:
    """A query of one row per year (and municipality) and measure of REVISION_MEASURES[table], read from the
    Parquet file named by the query parameter, for the years of the parameter $years."""
    keys = "year, kommunekode, kommunenavn" if table == "kpi_municipality" else "year"
    values = ", ".join(
        f"{{'measure': '{m}', 'value': cast({m} as double)}}" for m in REVISION_MEASURES[table]
    )
    return (
        f"select {keys}, unnest([{values}], recursive := true) from read_parquet({parameter}) "
        "where year in (select unnest($years::integer[]))"
    )


def _insert_revisions(con: duckdb.DuckDBPyConnection, table: str, stamp: dict, old: Path, new: Path) -> None:
    """Add to `revisions` each figure of REVISION_MEASURES[table] that differs between the two Parquet files.
    A municipality missing from one of them did not take part there."""
    municipal = table == "kpi_municipality"
    absent = "case when coalesce(n.measure, p.measure) = 'participating' then 0 end"
    # growth hidden (or shown again) because the year before is held back (or released)
    con.execute(
        f"""
        insert into revisions by name
        select $revised_at as revised_at, $run_id as run_id,
            $previous_published_at as previous_published_at, $previous_run_id as previous_run_id,
            $input_changed as input_changed, $code_changed as code_changed, year,
            {"kommunekode, kommunenavn," if municipal else "null as kommunekode, null as kommunenavn,"}
            measure, previous_value, new_value,
            case when starts_with(measure, 'growth_') then $held_back_year end as held_back_year
        from (
            select coalesce(n.year, p.year) as year,
                {"coalesce(n.kommunekode, p.kommunekode) as kommunekode," if municipal else ""}
                {"coalesce(n.kommunenavn, p.kommunenavn) as kommunenavn," if municipal else ""}
                coalesce(n.measure, p.measure) as measure,
                coalesce(p.value, {absent}) as previous_value, coalesce(n.value, {absent}) as new_value
            from ({_headline_figures(table, "$old")}) as p
            full join ({_headline_figures(table, "$new")}) as n
                on p.year = n.year and p.measure = n.measure {"and p.kommunekode = n.kommunekode" if municipal else ""}
        )
        where previous_value is distinct from new_value
        """,
        stamp | {"old": str(old), "new": str(new)},
    )


def record_revisions(previous_public: Path | None, public: Path, marts: Path) -> int:
    """Write revisions.parquet into the public copy `public` and into `marts`: the revisions of the publication
    before (`previous_public`, its public copy) and, for every year both public copies show, each headline figure
    of REVISION_MEASURES whose value changed. Returns the number of figures this publication revised."""
    old = previous_public
    with duckdb.connect() as con:
        con.execute(f"create table revisions ({REVISION_COLUMNS})")
        if old and (old / REVISIONS).exists():
            con.execute("insert into revisions by name select * from read_parquet(?)", [str(old / REVISIONS)])
        carried = int(con.execute("select count(*) from revisions").fetchone()[0])  # type: ignore[index]
        if old and (old / "kpi_national.parquet").exists():
            before = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
            now = json.loads((public / "manifest.json").read_text(encoding="utf-8"))
            shown_before = held_back_years(old)
            no_growth = years_without_growth(old) | years_without_growth(public)
            for year in sorted(
                _years(old / "kpi_national.parquet") & _years(public / "kpi_national.parquet")
            ):
                # a year the previous publication held back showed the figures of an earlier one
                shown = {**before, **shown_before.get(year, {})}
                stamp = {
                    "revised_at": now["generated_at"], "run_id": now["run_id"],
                    "previous_published_at": shown["generated_at"], "previous_run_id": shown["run_id"],
                    "input_changed": shown["input_fingerprint"] != now["input_fingerprint"],
                    "code_changed": shown["code_version"] != now["code_version"], "years": [year],
                    "held_back_year": no_growth.get(year),
                }  # fmt: skip
                for table in REVISION_MEASURES:
                    _insert_revisions(
                        con, table, stamp, old / f"{table}.parquet", public / f"{table}.parquet"
                    )
        total = int(con.execute("select count(*) from revisions").fetchone()[0])  # type: ignore[index]
        staged = public / f".{REVISIONS}"
        con.execute(
            f"copy (select * from revisions order by revised_at, year, kommunekode nulls first, measure) "
            f"to {sql_literal(staged.as_posix())} (format parquet)"
        )
    shutil.copyfile(staged, marts / REVISIONS)
    os.replace(staged, public / REVISIONS)
    return total - carried
