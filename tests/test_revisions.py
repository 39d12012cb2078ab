"""Revisions: a publication lists the published headline figures it changed, with the figure before and now."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines import publication
from tests.report_fixtures import MANIFEST, fail_an_error_check, write_report_marts
from tests.test_end_to_end import ORDER_HEADER, A, tiny_data_set, write
from tests.test_incremental import run


def _revisions(marts: Path) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(
            "select year, kommunekode, measure, previous_value, new_value from read_parquet(?) "
            "order by revised_at, year, kommunekode nulls first, measure",
            [str(marts / "revisions.parquet")],
        ).fetchall()


def _publication(root: Path, name: str, generated_at: str) -> Path:
    """A publication of the report fixture's marts (checks.parquet included: every ERROR check passed)."""
    marts = root / name / "marts"
    write_report_marts(marts)
    (marts / "manifest.json").write_text(
        json.dumps(MANIFEST | {"generated_at": generated_at, "run_id": name})
    )
    return root / name


def _change(parquet: Path, column: str, where: str, by: float) -> None:
    staged = parquet.with_name(".changed.parquet")
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * replace (case when {where} then {column} + {by} else {column} end as {column}) "
            f"from read_parquet('{parquet}')) to '{staged}'"
        )
    staged.replace(parquet)


def test_a_publication_lists_the_figures_it_changed_and_carries_the_earlier_ones(tmp_path):
    first = _publication(tmp_path, "first", "2024-03-01T12:00:00Z")
    assert publication.record_revisions(None, first / "marts") == 0
    assert _revisions(first / "marts") == []  # the file exists, empty, for the download

    second = _publication(tmp_path, "second", "2024-04-01T12:00:00Z")
    _change(
        second / "marts/kpi_municipality.parquet",
        "goods_spend_kr",
        "year = 2021 and kommunekode = '0440'",
        50,
    )
    _change(second / "marts/kpi_national.parquet", "goods_spend_kr", "year = 2021", 50)
    with duckdb.connect() as con:
        old_goods = con.execute(
            "select goods_spend_kr from read_parquet(?) where year = 2021",
            [str(first / "marts/kpi_national.parquet")],
        ).fetchone()[0]
        kerteminde = con.execute(
            "select goods_spend_kr from read_parquet(?) where year = 2021 and kommunekode = '0440'",
            [str(first / "marts/kpi_municipality.parquet")],
        ).fetchone()[0]
    assert publication.record_revisions(first, second / "marts") == 2
    assert _revisions(second / "marts") == [
        (2021, None, "goods_spend_kr", float(old_goods), float(old_goods) + 50),
        (2021, "0440", "goods_spend_kr", float(kerteminde), float(kerteminde) + 50),
    ]

    # The third publication withholds 2021 (a failed ERROR check) and changes both years: only 2022 is
    # compared, and the second publication's revisions are carried forward.
    third = _publication(tmp_path, "third", "2024-05-01T12:00:00Z")
    for mart in ("kpi_national", "kpi_municipality"):
        shutil.copy(second / f"marts/{mart}.parquet", third / f"marts/{mart}.parquet")
    fail_an_error_check(third / "marts/checks.parquet", [2021])
    _change(third / "marts/kpi_national.parquet", "participating_municipalities", "year in (2021, 2022)", 1)
    assert publication.record_revisions(second, third / "marts") == 1
    revisions = _revisions(third / "marts")
    assert revisions[:2] == _revisions(second / "marts")
    (year, code, measure, before, now) = revisions[2]
    assert (year, code, measure, now) == (2022, None, "participating_municipalities", before + 1)


def test_a_late_delivery_is_published_as_a_revision(tmp_path):
    """Hjørring delivered its 2021 invoices (F7, 5000 kr. of goods) but no orders, so it did not take part. Its
    orders arrive late: from the next publication it takes part, and the national 2021 figures change."""
    root = tmp_path / "data"
    tiny_data_set(root)
    run(root)
    assert _revisions(root / "marts") == []
    write(root / "raw/orders/0860/2021.csv", [ORDER_HEADER, f"4004;1;2021-01-05;{A};5000,00;katalog"])
    run(root)
    revisions = _revisions(root / "marts")
    # by hand (tests/test_end_to_end.py): before, Gladsaxe 1720 kr. of goods and 1420 e-handel, Kerteminde
    # 1000 and 100; Hjørring adds 5000 kr. of goods and one purchase, none of it e-handel (F7 names no order)
    national = {measure: (before, now) for year, code, measure, before, now in revisions if code is None}
    assert national.keys() == {
        "participating_municipalities", "goods_spend_kr", "share_spend", "goods_purchases", "share_purchases",
    }  # fmt: skip
    assert national["participating_municipalities"] == (2, 3)
    assert national["goods_spend_kr"] == (2720, 7720)
    assert national["share_spend"] == pytest.approx((1520 / 2720, 1520 / 7720))
    assert national["goods_purchases"][1] == national["goods_purchases"][0] + 1
    assert {(year, code) for year, code, *_ in revisions} == {(2021, None), (2021, "0860")}
    assert ("participating", 0, 1) in [(m, b, n) for _, code, m, b, n in revisions if code == "0860"]
    page = (root / "reports/2021/index.html").read_text(encoding="utf-8")
    assert 'id="revisioner"' in page and '<a href="0860.html">Hjørring</a>' in page
    assert "<p>Årsag: nye eller rettede leverancer.</p>" in page  # the same code ran both times
    assert '<td>Deltagende kommuner</td><td class="kr">2</td><td class="kr">3</td>' in page
    assert 'id="revisioner"' not in (root / "reports/2020/index.html").read_text(encoding="utf-8")

    run(root)  # nothing new: no new revision, the earlier ones kept
    assert _revisions(root / "marts") == revisions
