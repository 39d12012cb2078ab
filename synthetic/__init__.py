"""Synthetic national data set: every municipality's raw extracts, as DATA_CONTRACT.md describes them.

A tool of its own (not part of the pipeline graph). `generate(data_dir, scale, years, seed)` writes
`data_dir/raw/{invoices,orders}/<kommunekode>/*.csv`, `raw/ubl/<kommunekode>/<year>/**/*.xml` and
`raw/reference/{leverandoerer,aftaler}.csv`. scale=1.0 is the real national volume (~11 M invoices and ~78 M
invoice lines a year); the demo uses 0.02. Same seed and arguments give byte-identical files.

What is in it
- 98 municipalities: 93 deliver invoices and orders every year; 0155 Dragør and 0492 Ærø deliver invoices
  only (not participating) and 0563 Fanø, 0741 Samsø, 0825 Læsø nothing, whatever the seed.
- Each municipality keeps one source system (CSV dialect) across years: delimiter `;` `,` or tab; UTF-8 with
  or without BOM or Windows-1252; decimals `1234,56` `1.234,56` `1234.56`; four date formats; canonical,
  Danish, upper-case or source-system (assets/readers/layouts.py) header spellings; kommunekode with 4, 3 or no
  digits; CVR with `DK`, spaces; document types in any case, `Invoice`/`CreditNote` or `380`/`381`; credit-note
  amounts with either sign; one file a year, or per half-year, quarter or month.
- A few percent of the invoices at 16 municipalities (always Kerteminde 0440) arrive as OIOUBL 2.1 or Peppol
  BIS 3 XML instead of CSV, and a few percent of their orders as OIOUBL / Peppol orders (a quarter of those
  name no supplier CVR, only a GLN). XML documents never repeat a CSV row, with one deliberate exception:
  every year Kerteminde's first CSV e-handel food invoice is also delivered as XML (`*_kopi.xml`) to exercise
  "a CSV finance row wins over the XML copy" (METHODS 1).
- Deliberately bad rows, every year, all at Odense (0461), each its own document so nothing else is affected:
  invoices `BAD-<year>-1` (fakturadato 30 February), `BAD-<year>-2` (beloeb `abc`), `BAD-<year>-3`
  (kommunekode 0101 in folder 0461), and order `BAD-<year>-1` (ordredato in month 13). They are service lines
  (art 4.0), so even accepted they would not move a goods figure.
- Traps from real extracts: order numbers written differently on invoice and order (leading zeros, case,
  spaces), placeholders NA/INGEN/blank, a few invoices naming another supplier's order number (not e-handel),
  credit notes referencing the credited invoice and/or its order, art 4.9 lines with a food UNSPSC (not goods),
  lines with neither art nor UNSPSC (unclassified), supplier CVRs missing from the register.

Calibration: the counts and goods amounts of every municipality and year are steered (synthetic.generator) so
that the national figures computed from the files by METHODS.md land on the seed's (share of spend 11.3% /
12.7%, share of purchases 20.5% / 22.3%, growth 25% / 4.6%, Fødevarer largest and most traded, Engroshandel
typical in 84 of 93, fakturamatch ~65%). `synthetic.calibration.national_figures` recomputes them from the raw
files independently of the pipeline.
"""

import json
import multiprocessing
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from synthetic.generator import Generator, Stats
from synthetic.world import World

__all__ = ["generate"]

MARKER = ".synthetic.json"  # written into raw/: a raw folder holding it may be replaced by the next run


def generate(
    data_dir: Path,
    scale: float = 0.02,
    years: list[int] | None = None,
    seed: int = 2021,
    progress: Callable[[str, int, int], None] | None = None,
    workers: int | None = None,
) -> dict:
    """Write a synthetic national data set under data_dir/raw; returns a summary (files, lines, per year).

    An existing raw folder is replaced only when an earlier run of this generator made it (its marker file);
    any other content raises FileExistsError rather than mixing synthetic and real extracts. Municipality-years
    are written by `workers` processes (default: the CPU count, at most 4); the files do not depend on it.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    years = sorted(set(years if years is not None else range(2017, 2023)))
    raw = Path(data_dir) / "raw"
    _prepare(raw)
    world = World(seed)
    _write_reference(raw, world)
    codes = [c for c, m in world.municipalities.items() if m.delivers_invoices]
    # Largest first so that the two workers finish together; results are keyed, so order does not matter.
    tasks = sorted(((year, code) for year in years for code in codes),
                   key=lambda t: (-world.municipalities[t[1]].weight, t[0], t[1]))  # fmt: skip
    shares = {year: world.shares(year) for year in years}
    results: dict[tuple[int, str], dict] = {}
    workers = max(1, min(workers if workers is not None else (os.cpu_count() or 1), 4))
    if workers == 1:
        generator = Generator(world, scale, seed)
        for i, (year, code) in enumerate(tasks):
            if progress:
                progress(f"{year} {code}", i, len(tasks))
            results[(year, code)] = generator.municipality_year(
                raw, world.municipalities[code], year, shares[year][code]).__dict__  # fmt: skip
    else:
        context = multiprocessing.get_context("spawn")  # no fork: polars' thread pool does not survive it
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(seed, scale)) as pool:  # fmt: skip
            futures = {pool.submit(_run_task, str(raw), year, code, shares[year][code]): (year, code)
                       for year, code in tasks}  # fmt: skip
            for i, future in enumerate(as_completed(futures)):
                results[futures[future]] = future.result()
                if progress:
                    progress(f"{futures[future][0]} {futures[future][1]}", i + 1, len(tasks))
    summary: dict = {"scale": scale, "seed": seed, "years": years, "per_year": {}}
    overall = Stats(files=2)
    for year in years:
        year_stats = Stats()
        for code in codes:
            year_stats.add(Stats(**results[(year, code)]))
        summary["per_year"][year] = year_stats.__dict__.copy()
        overall.add(year_stats)
    total_steps = len(tasks)
    if progress:
        progress("done", total_steps, total_steps)
    summary.update(overall.__dict__)
    (raw / MARKER).write_text(
        json.dumps({"scale": scale, "seed": seed, "years": years}) + "\n", encoding="utf-8"
    )
    return summary


def _prepare(raw: Path) -> None:
    managed = ("invoices", "orders", "ubl", "reference")
    # hidden files (the repository's .gitkeep, make's stamps) are not deliveries
    if raw.exists() and any(not p.name.startswith(".") for p in raw.iterdir()):
        if not (raw / MARKER).exists():
            raise FileExistsError(
                f"{raw} already holds files not written by the generator; choose an empty --data-dir"
            )
        for name in managed:
            shutil.rmtree(raw / name, ignore_errors=True)
        (raw / MARKER).unlink(missing_ok=True)
    raw.mkdir(parents=True, exist_ok=True)


def _write_reference(raw: Path, world: World) -> None:
    folder = raw / "reference"
    folder.mkdir(parents=True, exist_ok=True)
    sup = world.suppliers
    rows = ["cvr;navn;branchekode"]
    rows += [
        f"{sup.cvr[i]};{sup.name[i]};{sup.branchekode[i]}" for i in range(len(sup.cvr)) if sup.in_register[i]
    ]
    (folder / "leverandoerer.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    from synthetic.world import FOOD_MAKERS, FOOD_WHOLESALE, GOODS_WHOLESALE

    food = list(sup.members(FOOD_WHOLESALE)[:4]) + list(sup.members(FOOD_MAKERS)[:1])
    office = [i for i in sup.members(GOODS_WHOLESALE) if world.categories.names[sup.category[i]] ==
              "Kontorartikler og papir"][:3]  # fmt: skip
    cleaning = [i for i in sup.members(GOODS_WHOLESALE) if world.categories.names[sup.category[i]] ==
                "Rengøring og hygiejne"][:2]  # fmt: skip
    agreements = [("50.90", "Fødevarer", "Fødevarer", food, "2016-01-01", "2024-12-31"),
                  ("50.10", "Kontorartikler", "Kontorartikler og papir", office, "2017-06-01", "2023-05-31"),
                  ("50.40", "Rengøringsmidler, papir og plast", "Rengøring og hygiejne", cleaning, "2018-01-01",
                   "2022-12-31")]  # fmt: skip
    rows = ["aftalenummer;navn;indkoebskategori;leverandoer_cvr;gyldig_fra;gyldig_til"]
    for number, name, category, members, start, end in agreements:
        rows += [f"{number};{name};{category};{sup.cvr[i]};{start};{end}" for i in members]
    (folder / "aftaler.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


_WORKER: Generator | None = None


def _init_worker(seed: int, scale: float) -> None:
    global _WORKER
    _WORKER = Generator(World(seed), scale, seed)


def _run_task(raw: str, year: int, code: str, shares: tuple[float, float, float]) -> dict:
    assert _WORKER is not None
    return _WORKER.municipality_year(Path(raw), _WORKER.world.municipalities[code], year, shares).__dict__
