"""The reference tables shipped with the project and delivered with the data load as DuckDB tables."""

from pipelines.warehouse import connect, load_delivered_reference, load_static_reference


def test_static_reference_tables_load(tmp_path):
    with connect(tmp_path / "warehouse.duckdb") as con:
        counts = load_static_reference(con)
        assert counts == {
            "kommuner": 98, "db07_hovedgrupper": 88, "kontoplan_arter": 12, "unspsc_segmenter": 63,
            "transaktionsomkostninger": 4,
        }  # fmt: skip
        assert con.execute("select kommunenavn, regionsnavn from reference.kommuner where kommunekode = '0159'").fetchone() == (
            "Gladsaxe", "Region Hovedstaden",
        )  # fmt: skip
        assert con.execute("select titel from reference.db07_hovedgrupper where hovedgruppe = '46'").fetchone() == (
            "Engroshandel undtagen med motorkøretøjer og motorcykler",
        )  # fmt: skip
        goods = con.execute(
            "select list(art order by art) from reference.kontoplan_arter where varekoeb = 'ja'"
        ).fetchone()
        assert goods == (["2.2", "2.3", "2.7", "2.9"],)
        costs = dict(
            con.execute("select kanal, kr_pr_indkoeb from reference.transaktionsomkostninger").fetchall()
        )
        assert costs == {
            "personaleudlaeg": "325",
            "mail_telefon_web": "130",
            "ehandel": "99",
            "fakturamatch": "68",
        }


def test_delivered_registers_are_normalised_and_optional(tmp_path):
    folder = tmp_path / "raw" / "reference"
    folder.mkdir(parents=True)
    with connect(tmp_path / "warehouse.duckdb") as con:
        assert load_delivered_reference(con, folder) == {"leverandoerer": 0, "aftaler": 0}
        (folder / "leverandoerer.csv").write_text(
            "cvr;navn;branchekode\nDK 1234 5678;Grossist A/S;46.39.00\n87654321;Bager ApS;107100\nbad;X;1\n",
            encoding="utf-8",
        )
        (folder / "aftaler.csv").write_text(
            "aftalenummer;navn;indkoebskategori;leverandoer_cvr;gyldig_fra;gyldig_til\n"
            "50.90;Fødevarer;Fødevarer;DK12345678;01-01-2020;31.12.2023\n",
            encoding="utf-8",
        )
        assert load_delivered_reference(con, folder) == {"leverandoerer": 2, "aftaler": 1}
        assert con.execute("select cvr, branchekode from reference.leverandoerer order by cvr").fetchall() == [
            ("12345678", "463900"), ("87654321", "107100"),
        ]  # fmt: skip
        row = con.execute("select leverandoer_cvr, gyldig_fra, gyldig_til from reference.aftaler").fetchone()
        assert (
            row is not None
            and row[0] == "12345678"
            and str(row[1]) == "2020-01-01"
            and str(row[2]) == "2023-12-31"
        )
