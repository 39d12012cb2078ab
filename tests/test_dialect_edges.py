"""Edges of dialect recognition: an encoding that shows only after the sniffed sample, ambiguous header cells."""

from decimal import Decimal

import pytest

from assets.readers.csv_files import SAMPLE_BYTES, SCAN_CHUNK, sniff
from assets.readers.layouts import map_header
from pipelines.settings import DataDir
from pipelines.warehouse import connect
from tests.test_ingest import deliver, ingest

INVOICE_HEADER = "fakturanummer;dokumenttype;fakturadato;leverandoer_cvr;linjenummer;beloeb;varebeskrivelse\n"
ASCII_ROW = "F1;Faktura;2021-03-01;12345678;1;10,00;Kontorartikler og papir til administrationen\n"


@pytest.fixture
def data(tmp_path) -> DataDir:
    return DataDir.resolve(tmp_path / "data")


def test_windows_1252_after_256_kb_of_ascii_rows(data):
    rows = [ASCII_ROW.replace("F1;", f"F{i};", 1) for i in range(5000)]  # ~450 KB
    rows += [
        "G1;Faktura;2021-03-02;12345678;1;100,00;Blåbær og rødgrød\n",
        "G1;Faktura;2021-03-02;12345678;2;5,50;Æble\n",
    ]
    path = deliver(data, "invoices/0159/late.csv", INVOICE_HEADER + "".join(rows), "cp1252")
    assert path.read_bytes()[:SAMPLE_BYTES].isascii()  # nothing in the sample tells the encoding
    assert sniff(path, "invoices").encoding == "windows-1252"
    files, lines, rejected = ingest(data)
    assert files == [("invoices/0159/late.csv", "loaded", None, 5002)]
    assert rejected == []
    assert [reason for _, _, _, reason, *_ in lines] == [None] * 5002
    with connect(data.warehouse) as con:
        late = con.execute(
            "select line_id, description, amount_kr from ingest.invoice_lines where document_number = 'G1' "
            "order by line_id"
        ).fetchall()
    assert late == [("1", "Blåbær og rødgrød", Decimal("100.00")), ("2", "Æble", Decimal("5.50"))]


# The first non-ASCII byte just after the sample; and as the last byte of a chunk ('å' in UTF-8 cut in two).
@pytest.mark.parametrize("offset", [SAMPLE_BYTES, SAMPLE_BYTES + SCAN_CHUNK - 1])
@pytest.mark.parametrize(("encoding", "expected"), [("utf-8", "utf-8"), ("cp1252", "windows-1252")])
def test_encoding_decided_at_the_first_non_ascii_byte(tmp_path, offset, encoding, expected):
    ascii_part = (INVOICE_HEADER + ASCII_ROW * (offset // len(ASCII_ROW) + 1)).encode("ascii")[:offset]
    path = tmp_path / "x.csv"
    path.write_bytes(
        ascii_part + "åben;Blåbær og rødgrød\n".encode(encoding) + ASCII_ROW.encode("ascii") * 10
    )
    assert sniff(path, "invoices").encoding == expected


def test_a_longer_file_of_plain_ascii_is_utf_8(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(INVOICE_HEADER + ASCII_ROW * 10_000, encoding="ascii")
    assert path.stat().st_size > SAMPLE_BYTES
    assert sniff(path, "invoices").encoding == "utf-8"


OPUS = "Bilagsnummer;Bilagstype;Bilagsdato;Kreditor CVR;Bilagslinje;Linjetekst;{amounts}"


def test_opus_amount_excl_vat_preferred_over_plain_beloeb(data):
    header = OPUS.format(amounts="Beløb ekskl. moms;Moms;Beløb")
    assert map_header("invoices", header.split(";")) == (
        "opus_oekonomi",
        {0: "fakturanummer", 1: "dokumenttype", 2: "fakturadato", 3: "leverandoer_cvr", 4: "linjenummer",
         5: "varebeskrivelse", 6: "beloeb"},
    )  # fmt: skip
    deliver(
        data,
        "invoices/0440/opus.csv",
        f"{header}\nB7;Faktura;2021-05-01;11223344;1;Blyanter;100,00;25,00;125,00\n",
    )
    files, lines, _ = ingest(data)
    assert files == [("invoices/0440/opus.csv", "loaded", None, 1)]
    assert [row[:4] for row in lines] == [("B7", "1", Decimal("100.00"), None)]


def test_prisme_net_amount_preferred_over_plain_beloeb():
    header = ["FakturaNr", "Type", "Dato", "CVR-nr.", "LinjeNr", "Beløb", "Nettobeløb"]
    layout, mapping = map_header("invoices", header)
    assert (layout, mapping[6], 5 in mapping) == ("prisme_finans", "beloeb", False)


def test_the_same_column_twice_refuses_the_file(data):
    text = (
        "fakturanummer;dokumenttype;fakturadato;leverandoer_cvr;linjenummer;Beløb;beloeb\n"
        "F1;Faktura;2021-03-01;12345678;1;100,00;125,00\n"
    )
    deliver(data, "invoices/0159/twice.csv", text)
    files, lines, _ = ingest(data)
    assert files == [
        (
            "invoices/0159/twice.csv",
            "rejected",
            "unknown layout: the columns 'Beløb' and 'beloeb' both read as beloeb (the line amount excl. VAT): "
            "deliver one of them",
            0,
        )
    ]
    assert lines == []


@pytest.mark.parametrize(
    ("kind", "header", "reason"),
    [
        (  # an exact name is not overridden by a layout's alias, nor the other way round
            "orders",
            "Ordre ID;Linje ID;Oprettet;Leverandør CVR-nr;Linjebeløb;Beløb",
            "the columns 'Linjebeløb' and 'Beløb' both read as beloeb (the line amount excl. VAT): "
            "deliver one of them",
        ),
        (  # two preferred spellings: no preference left
            "invoices",
            OPUS.format(amounts="Beløb;Beløb ekskl. moms;Beløb ekskl. moms"),
            "the columns 'Beløb', 'Beløb ekskl. moms' and 'Beløb ekskl. moms' all read as beloeb "
            "(the line amount excl. VAT): deliver one of them",
        ),
        (  # not only the amount
            "invoices",
            OPUS.format(amounts="Beløb ekskl. moms;Art;Artskonto"),
            "the columns 'Art' and 'Artskonto' both read as art (the kontoplan art): deliver one of them",
        ),
    ],
)
def test_ambiguous_header_cells_named_in_the_reason(kind, header, reason):
    with pytest.raises(ValueError) as error:
        map_header(kind, header.split(";"))
    assert str(error.value) == reason


def test_an_unrelated_extra_column_does_not_switch_the_layout():
    """'Type' is Prisme's dokumenttype; in a file with canonical names it is just one more column."""
    header = [*INVOICE_HEADER.strip().split(";"), "Type"]
    assert map_header("invoices", header) == ("canonical", {i: c for i, c in enumerate(header[:-1])})


def test_lines_ending_in_cr_only_are_read(data):
    """Old Mac line endings (CR only): the header and the rows are split as DuckDB splits them."""
    text = (
        INVOICE_HEADER.replace("\n", "\r")
        + ASCII_ROW.replace("\n", "\r")
        + '"F2";Faktura;2021-03-01;12345678;1;2,50;"to\rlinjer"\r'
    )
    deliver(data, "invoices/0159/mac.csv", text)
    files, lines, rejected = ingest(data)
    assert files == [("invoices/0159/mac.csv", "loaded", None, 2)]
    assert sorted((doc, amount) for doc, _, amount, *_ in lines) == [
        ("F1", Decimal("10.00")),
        ("F2", Decimal("2.50")),
    ]
    assert rejected == []
