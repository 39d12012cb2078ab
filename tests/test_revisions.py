"""Revisions and held-back years: what a publication changed in the figures the public saw, and what it kept."""

import json
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, AssetSelection, DagsterInstance, Definitions, define_asset_job

from assets.checks import evaluate_all
from pipelines import publication
from pipelines.definitions import build_definitions
from pipelines.export import export_published
from pipelines.settings import DataDir
from pipelines.warehouse import connect
from reports import formatting as fmt
from tests.report_fixtures import MANIFEST, fail_an_error_check, write_report_marts
from tests.test_end_to_end import ORDER_HEADER, A, rows, tiny_data_set, write
from tests.test_incremental import run


def _revisions(marts: Path) -> list[tuple]:
    return rows(
        marts / "revisions.parquet",
        "select year, kommunekode, measure, previous_value, new_value from read_parquet({file}) "
        "order by revised_at, year, kommunekode nulls first, measure",
    )


def _held_back_years_of_growth(publication_dir: Path, run_id: str) -> set[tuple]:
    """(year, measure, held-back year) of the national revisions a publication made to growth figures."""
    return set(
        rows(
            publication_dir / "marts/revisions.parquet",
            f"select year, measure, held_back_year from read_parquet({{file}}) "
            f"where run_id = '{run_id}' and kommunekode is null and starts_with(measure, 'growth_')",
        )
    )


def _value(parquet: Path, column: str, where: str) -> float:
    return float(rows(parquet, f"select {column} from read_parquet({{file}}) where {where}")[0][0])


def _change(parquet: Path, column: str, where: str, by: float) -> None:
    staged = parquet.with_name(".changed.parquet")
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * replace (case when {where} then {column} + {by} else {column} end as {column}) "
            f"from read_parquet('{parquet}')) to '{staged}'"
        )
    staged.replace(parquet)


def _publish(root: Path, name: str, previous: Path | None, prepare=None) -> Path:
    """A publication of the report fixture's marts as reports/site makes it: `prepare(marts)` changes the marts
    first; then the public copy (withheld years held back from `previous`) and the revisions."""
    marts = root / name / "marts"
    write_report_marts(marts)
    day = f"2024-0{len(list(root.iterdir()))}-01T12:00:00Z"
    (marts / "manifest.json").write_text(json.dumps(MANIFEST | {"generated_at": day, "run_id": name}))
    if prepare:
        prepare(marts)
    withheld = publication.withheld_years(marts / "checks.parquet")
    public = publication.public_copy(
        marts, root / name / "public", withheld, previous / "public" if previous else None
    )
    publication.record_revisions(previous / "public" if previous else None, public, marts)
    return root / name


def test_a_publication_lists_the_figures_it_changed_and_carries_the_earlier_ones(tmp_path):
    first = _publish(tmp_path, "first", None)
    assert _revisions(first / "marts") == []  # the file exists, empty, for the download

    def kerteminde_plus_50(marts: Path) -> None:
        _change(
            marts / "kpi_municipality.parquet", "goods_spend_kr", "year = 2021 and kommunekode = '0440'", 50
        )
        _change(marts / "kpi_national.parquet", "goods_spend_kr", "year = 2021", 50)

    second = _publish(tmp_path, "second", first, kerteminde_plus_50)
    nation = _value(first / "marts/kpi_national.parquet", "goods_spend_kr", "year = 2021")
    kerteminde = _value(
        first / "marts/kpi_municipality.parquet", "goods_spend_kr", "year = 2021 and kommunekode = '0440'"
    )
    assert _revisions(second / "marts") == [
        (2021, None, "goods_spend_kr", nation, nation + 50),
        (2021, "0440", "goods_spend_kr", kerteminde, kerteminde + 50),
    ]
    assert _revisions(second / "public") == _revisions(second / "marts")

    # The third publication's 2021 fails an ERROR check: 2021 is held back (the public copy shows the second's
    # figures), so only 2022 is revised; the second's revisions are carried forward.
    def one_more_participant_and_2021_fails(marts: Path) -> None:
        kerteminde_plus_50(marts)
        _change(marts / "kpi_national.parquet", "participating_municipalities", "year in (2021, 2022)", 1)
        fail_an_error_check(marts / "checks.parquet", [2021])

    third = _publish(tmp_path, "third", second, one_more_participant_and_2021_fails)
    participants = {
        year: _value(second / "public/kpi_national.parquet", "participating_municipalities", f"year = {year}")
        for year in (2021, 2022)
    }
    growth = _value(second / "public/kpi_national.parquet", "growth_ehandel_spend", "year = 2022")
    assert [r for r in _revisions(third / "marts") if r[1] is None] == [
        *[r for r in _revisions(second / "marts") if r[1] is None],
        (2022, None, "growth_ehandel_spend", growth, None),  # against 2021's withheld figures: not published
        (2022, None, "participating_municipalities", participants[2022], participants[2022] + 1),
    ]
    assert publication.years_without_growth(third / "public") == {2022: 2021}
    # ... for every municipality too, while the internal marts keep METHODS' growth
    assert rows(
        third / "public/kpi_municipality.parquet",
        "select count(growth_ehandel_spend) from read_parquet({file}) where year = 2022",
    ) == [(0,)]
    assert rows(
        third / "marts/kpi_municipality.parquet",
        "select count(growth_ehandel_spend) > 0 from read_parquet({file}) where year = 2022",
    ) == [(True,)]
    assert _held_back_years_of_growth(third, "third") == {(2022, "growth_ehandel_spend", 2021)}
    assert (
        _value(third / "public/kpi_national.parquet", "participating_municipalities", "year = 2021")
        == (participants[2021])
    )
    assert publication.held_back_years(third / "public") == {
        2021: {
            "generated_at": "2024-02-01T12:00:00Z",
            "run_id": "second",
            "input_fingerprint": MANIFEST["input_fingerprint"],
            "code_version": MANIFEST["code_version"],
            "reason": "ERROR check kpi_national_shares_in_range on marts/kpi_national failed",
        }
    }

    # Still failing in the fourth: held back since the second publication, which first showed those figures.
    fourth = _publish(tmp_path, "fourth", third, one_more_participant_and_2021_fails)
    assert publication.held_back_years(fourth / "public")[2021]["generated_at"] == "2024-02-01T12:00:00Z"
    assert _revisions(fourth / "marts") == _revisions(third / "marts")

    # Released in the fifth: 2021's new figures are compared with the held-back ones the public saw.
    def one_more_participant(marts: Path) -> None:
        kerteminde_plus_50(marts)
        _change(marts / "kpi_national.parquet", "participating_municipalities", "year in (2021, 2022)", 1)

    fifth = _publish(tmp_path, "fifth", fourth, one_more_participant)
    assert publication.held_back_years(fifth / "public") == {}
    stamps = rows(
        fifth / "marts/revisions.parquet",
        "select distinct year, previous_run_id from read_parquet({file}) where run_id = 'fifth' order by year",
    )
    assert stamps == [(2021, "second"), (2022, "fourth")]
    assert _held_back_years_of_growth(fifth, "fifth") == {(2022, "growth_ehandel_spend", 2021)}  # shown again
    assert (2021, None, "participating_municipalities", participants[2021], participants[2021] + 1) in (
        _revisions(fifth / "marts")
    )


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
    assert (
        "<p>Årsag: nye, rettede eller tilbagetrukne leverancer.</p>" in page
    )  # the same code ran both times
    assert '<td>Deltagende kommuner</td><td class="kr">2</td><td class="kr">3</td>' in page
    assert 'id="revisioner"' not in (root / "reports/2020/index.html").read_text(encoding="utf-8")

    run(root)  # nothing new: no new revision, the earlier ones kept
    assert _revisions(root / "marts") == revisions


def test_a_year_held_back_by_a_failed_check_stays_as_it_was_published(tmp_path):
    """A failed ERROR check on 2021's new figures holds them back: 2021's pages, downloads and public export keep
    the figures published before, and say so. DIR/marts keeps the new ones for the analysts. Once the check
    passes again, 2021 is published anew and its revisions compare with what the public saw."""
    root = tmp_path / "data"
    tiny_data_set(root)
    run(root)
    first_day = json.loads((root / "marts/manifest.json").read_text())["generated_at"]
    share = _value(root / "marts/kpi_national.parquet", "share_spend", "year = 2021")
    assert share == pytest.approx(1520 / 2720)

    with connect(root / "marts/warehouse.duckdb") as con:
        con.execute("update marts.mart_kpi_national set share_spend = 1.5 where year = 2021")
        evaluate_all(con, "broken")
    publish = define_asset_job(
        "publish",
        selection=AssetSelection.assets(
            AssetKey(["reports", "published_marts"]), AssetKey(["reports", "site"])
        ),
    )
    defs = Definitions.merge(build_definitions(str(root)), Definitions(jobs=[publish]))
    with DagsterInstance.ephemeral() as instance:
        assert defs.resolve_job_def("publish").execute_in_process(instance=instance).success

    assert (
        _value(root / "marts/kpi_national.parquet", "share_spend", "year = 2021") == 1.5
    )  # for the analysts
    public = root / ".publication" / publication.PUBLIC
    assert _value(public / "kpi_national.parquet", "share_spend", "year = 2021") == share
    national = (root / "reports/2021/index.html").read_text(encoding="utf-8")
    assert "Tallene for 2021 er ikke opdateret i denne udgivelse." in national
    assert f"de tal, der blev offentliggjort {fmt.day(first_day)}" in national
    assert fmt.percent(share) in national and "150,0%" not in national
    assert "Tallene for 2021 er ikke opdateret" in (root / "reports/2021/0159.html").read_text(
        encoding="utf-8"
    )
    assert "ikke opdateret" not in (root / "reports/2020/index.html").read_text(encoding="utf-8")
    assert f"Nye tal tilbageholdt: viser tallene fra {fmt.day(first_day)}" in (
        root / "reports/index.html"
    ).read_text(encoding="utf-8")
    assert _value(root / "reports/data/kpi_national.parquet", "share_spend", "year = 2021") == share
    assert _revisions(root / "marts") == []
    export_published(publication.current_publication(DataDir.resolve(root)) / "marts",
                     str(tmp_path / "export"), public=True)  # fmt: skip
    assert _value(tmp_path / "export/kpi_national/year=2021/data_0.parquet", "share_spend", "true") == share

    # Hjørring's orders arrive and the refresh recomputes 2021 (the check passes): 2021 is published anew.
    write(root / "raw/orders/0860/2021.csv", [ORDER_HEADER, f"4004;1;2021-01-05;{A};5000,00;katalog"])
    run(root)
    assert "ikke opdateret" not in (root / "reports/2021/index.html").read_text(encoding="utf-8")
    revised = {m: (b, n) for year, code, m, b, n in _revisions(root / "marts") if code is None}
    assert revised["share_spend"] == pytest.approx((1520 / 2720, 1520 / 7720))  # from the figures shown


def test_every_revised_measure_has_its_danish_label():
    """The pages name each measure of REVISION_MEASURES (reports/render.py REVISION_LABELS), none missing."""
    from reports.render import REVISION_LABELS

    measures = {m for table in publication.REVISION_MEASURES.values() for m in table}
    assert measures == set(REVISION_LABELS)
