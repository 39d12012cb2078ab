"""Ingest of delivered CSV files: dialects with no configuration, refused files and rows, incremental loading."""

import hashlib
import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from assets import loading
from pipelines.settings import DataDir
from pipelines.warehouse import connect, load_static_reference

HEADER = "Kommunekode;Fakturanummer;Dokumenttype;Fakturadato;Leverandør CVR;Linjenummer;Beløb;Art;Ordrenummer"


def deliver(
    data: DataDir, relative: str, text: str, encoding: str = "utf-8", mtime: int | None = None
) -> Path:
    path = data.raw / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def ingest(data: DataDir):
    with connect(data.warehouse) as con:
        load_static_reference(con)
        loading.scan_deliveries(con, data)
        loading.forget_withdrawn_files(con)
        loading.load_new_files(con, data, log=lambda _: None)
        files = con.execute(
            "select source_file, status, reason, rows_read from ingest.files order by 1"
        ).fetchall()
        lines = con.execute("""
            select document_number, line_id, amount_kr, reject_reason, kommunekode, supplier_cvr, issue_date
            from ingest.invoice_lines order by file_id, record_number
        """).fetchall()
        rejected = con.execute("select line_number, reason from ingest.rejected_records").fetchall()
    return files, lines, rejected


@pytest.fixture
def data(tmp_path) -> DataDir:
    return DataDir.resolve(tmp_path / "data")


@pytest.mark.parametrize(
    ("delimiter", "encoding", "bom"),
    [
        (";", "utf-8", False),
        (",", "utf-8", True),
        ("\t", "utf-8", False),
        (";", "cp1252", False),
        (";", "latin-1", False),
    ],
)
def test_dialects_read_with_no_configuration(data, delimiter, encoding, bom):
    name = "Købmand – Æble & Ø" if encoding == "cp1252" else "Købmand Æble & Ø"  # en dash only in cp1252
    header = (
        f"fakturanummer{delimiter}dokumenttype{delimiter}fakturadato{delimiter}leverandoer_cvr{delimiter}"
        f"leverandoer_navn{delimiter}linjenummer{delimiter}beloeb"
    )
    quote = '"' if delimiter == "," else ""  # a comma decimal in a comma-separated file must be quoted
    rows = [
        ["F1", "Faktura", "31-03-2021", "DK 1234 5678", name, "1", f"{quote}1.234,56{quote}"],
        ["F1", "faktura", "31.03.2021", "12345678", name, "2", f"{quote}-12,50{quote}"],
        ["K1", "KREDITNOTA", "01/04/2021", "12345678", name, "1", "100.00"],
    ]
    text = "\n".join([header, *(delimiter.join(r) for r in rows)]) + "\n"
    path = deliver(data, "invoices/0159/x.csv", text, encoding)
    if bom:
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    files, lines, _ = ingest(data)
    assert files == [("invoices/0159/x.csv", "loaded", None, 3)]
    assert [(doc, line, str(amount), reason) for doc, line, amount, reason, *_ in lines] == [
        ("F1", "1", "1234.56", None), ("F1", "2", "-12.50", None), ("K1", "1", "-100.00", None),
    ]  # fmt: skip
    with connect(data.warehouse) as con:
        assert con.execute("select distinct supplier_name from ingest.invoice_lines").fetchall() == [(name,)]


def test_source_system_layout(data):
    text = (
        "Bilagsnummer;Bilagstype;Bilagsdato;Kreditor CVR;Bilagslinje;Beløb ekskl. moms;Artskonto\n"
        "B7;Faktura;2021-05-01;11223344;1;99,95;2.2\n"
    )
    deliver(data, "invoices/440/opus.csv", text)
    files, lines, _ = ingest(data)
    assert files[0][1] == "loaded"
    assert [row[:6] for row in lines] == [("B7", "1", Decimal("99.95"), None, "0440", "11223344")]


def test_bad_rows_quarantined_with_reasons_rest_loads(data):
    text = "\n".join([
        HEADER,
        "159;F1;Faktura;31-03-2021;12345678;1;100,00;2.2;NA",
        "147;F2;Faktura;31-03-2021;12345678;1;10,00;2.2;",  # kommunekode disagrees with the folder
        "159;F3;Faktura;31-02-2021;12345678;1;10,00;2.2;",  # no such date
        "159;F4;Faktura;31-03-2021;1234;1;abc;2.2;",  # bad CVR and amount
        "159;F5;Faktura;31-03-2021;12345678;1;10,00;2.2;;extra",  # one field too many
        "159;F6;Rykker;31-03-2021;12345678;1;10,00;2.2;",
        "1x9;F7;Faktura;31-03-2021;12345678;1;10,00;2.2;",  # not a municipality code
    ]) + "\n"  # fmt: skip
    deliver(data, "invoices/0159/a.csv", text)
    files, lines, rejected = ingest(data)
    assert files == [("invoices/0159/a.csv", "loaded", None, 7)]
    reasons = {doc: reason for doc, _, _, reason, *_ in lines}
    assert reasons["F1"] is None
    assert reasons["F2"] == "kommunekode 0147 in the row disagrees with the delivery folder 0159"
    assert reasons["F3"].startswith("fakturadato '31-02-2021' is not a date")
    assert "leverandoer_cvr '1234' is not an 8-digit CVR number" in reasons["F4"]
    assert "beloeb 'abc' is not an amount" in reasons["F4"]
    assert reasons["F6"] == "dokumenttype 'Rykker' is neither Faktura nor Kreditnota"
    assert reasons["F7"] == "kommunekode '1x9' is not a 3-4 digit municipality code"
    assert rejected == [  # the header is line 1, F5 line 6
        (6, "the line has more fields than the header (a delimiter inside an unquoted value?)")
    ]


def test_a_quote_that_never_closes_is_named_with_the_lines_it_swallowed(data):
    rows = [
        "159;F1;Faktura;2021-01-05;12345678;1;1,00;2.2;",
        '159;F2;Faktura;2021-01-05;12345678;1;2,00;"oops;',
        "159;F3;Faktura;2021-01-05;12345678;1;3,00;2.2;",
        "159;F4;Faktura;2021-01-05;12345678;1;4,00;2.2;",
    ]
    deliver(data, "invoices/0159/q.csv", "\n".join([HEADER, *rows]) + "\n")
    files, lines, rejected = ingest(data)
    assert files == [("invoices/0159/q.csv", "loaded", None, 2)]  # F1 and the record F2 opened
    assert [doc for doc, *_ in lines] == ["F1"]
    assert rejected == [
        (
            3,
            "a quoted value opens on this line and never closes: the next 2 line(s) were read into it as one record",
        )
    ]


def test_unreadable_files_refused_whole(data):
    deliver(data, "invoices/0159/good.csv", f"{HEADER}\n159;F1;Faktura;2021-01-05;12345678;1;1;2.2;\n")
    (data.raw / "invoices/0159/binary.csv").write_bytes(bytes(range(256)) * 20)
    deliver(data, "invoices/0999/unknown.csv", f"{HEADER}\n999;F1;Faktura;2021-01-05;12345678;1;1;2.2;\n")
    deliver(data, "invoices/0159/notes.csv", "just some notes\nnothing tabular\n")
    deliver(data, "invoices/0159/wrong.csv", "a;b;c\n1;2;3\n")
    files, lines, _ = ingest(data)
    status = {source: (state, reason) for source, state, reason, _ in files}
    assert status["invoices/0159/good.csv"] == ("loaded", None)
    assert status["invoices/0159/binary.csv"][1].startswith("the file holds binary data")
    assert status["invoices/0999/unknown.csv"][1].startswith(
        "the delivery folder '0999' is not a municipality code"
    )
    assert status["invoices/0159/notes.csv"][1].startswith("the first line has no ';', ',' or tab")
    assert status["invoices/0159/wrong.csv"][1].startswith(
        "unknown layout: the header has no column for fakturanummer"
    )
    assert len(lines) == 1


def test_line_endings_mixed_are_read_and_a_stray_carriage_return_is_named(data):
    def rows(doc: str) -> list[str]:
        return [f"159;{doc}{n};Faktura;2021-01-05;12345678;1;{n},00;2.2;" for n in (1, 2)]

    first, second = rows("F")
    deliver(data, "invoices/0159/crlf-header.csv", f"{HEADER}\r\n{first}\n{second}\n")
    first, second = rows("G")
    deliver(data, "invoices/0159/crlf-rows.csv", f"{HEADER}\n{first}\r\n{second}\r\n")
    first, second = rows("H")
    deliver(data, "invoices/0159/stray-cr.csv", f"{HEADER}\n{first}P\rO\n{second}\n")
    files, lines, _ = ingest(data)
    assert files == [
        ("invoices/0159/crlf-header.csv", "loaded", None, 2),
        ("invoices/0159/crlf-rows.csv", "loaded", None, 2),
        ("invoices/0159/stray-cr.csv", "rejected",
         "the file cannot be split into lines: it mixes line endings (CRLF and LF) or has a carriage return (CR) "
         "inside an unquoted value. Save it again with one kind of line ending", 0),
    ]  # fmt: skip
    assert sorted((doc, amount) for doc, _, amount, *_ in lines) == [
        ("F1", Decimal("1.00")), ("F2", Decimal("2.00")), ("G1", Decimal("1.00")), ("G2", Decimal("2.00")),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("line_break", "encoding"),
    [("\n", "utf-8"), ("\r\n", "cp1252"), ("\r", "utf-8")],
    ids=["lf", "crlf-1252", "cr"],
)
def test_quarantined_rows_name_the_line_they_start_on(data, line_break, encoding):
    """Blank lines, a line break quoted in a column the pipeline does not read, a whitespace-only line and a
    record with a field too many: each quarantined row names the line of the file it starts on."""
    lines = [
        f"{HEADER};Bemærkning",                                       # 1
        "159;F1;Faktura;2021-01-05;12345678;1;1,00;2.2;;ok",          # 2
        "",                                                           # 3 blank
        '159;F2;Faktura;2021-01-05;12345678;1;2,00;2.2;;"two',        # 4
        "",                                                           # 5 (quoted)
        'lines"',                                                     # 6
        "159;F3;Faktura;2021-13-45;12345678;1;3,00;2.2;;",            # 7 bad date
        "   ",                                                        # 8 whitespace only
        "159;F4;Faktura;2021-01-05;12345678;1;4,00;2.2;;x;y",         # 9 a field too many
        "",                                                           # 10 blank
        '159;F5;Faktura;2021-01-05;1234;1;5,00;2.2;;"Ærø\nkøb"',      # 11-12 bad CVR
        "159;F6;Faktura;2021-01-05;12345678;1;abc;2.2;;",             # 13 bad amount
    ]  # fmt: skip
    text = line_break.join(line.replace("\n", line_break) for line in lines)
    deliver(data, "invoices/0159/a.csv", text + line_break, encoding=encoding)
    files, _, rejected = ingest(data)
    assert files == [("invoices/0159/a.csv", "loaded", None, 7)]  # 5 typed rows, 2 records not split
    with connect(data.warehouse) as con:
        quarantined = con.execute("""
            select l.document_number, r.line_number from ingest.invoice_lines l
            left join ingest.record_lines r using (file_key, record_number)
            where l.reject_reason is not null order by r.line_number
        """).fetchall()
    assert quarantined == [("F3", 7), ("F5", 11), ("F6", 13)]
    assert sorted(line for line, _ in rejected) == [8, 9]


def test_incremental_same_content_parsed_once_and_withdrawn_rows_leave(data):
    text = f"{HEADER}\n159;F1;Faktura;2021-01-05;12345678;1;1;2.2;\n"
    deliver(data, "invoices/0159/jan.csv", text)
    deliver(data, "invoices/0159/jan-again.csv", text)  # the same bytes under another name
    files, lines, _ = ingest(data)
    assert len(files) == 1 and len(lines) == 1
    with connect(data.warehouse) as con:
        assert con.execute("select count(*) from ingest.deliveries").fetchone() == (2,)
    # a second run reads nothing again
    with connect(data.warehouse) as con:
        load_static_reference(con)
        assert loading.scan_deliveries(con, data) == {"files": 2, "hashed": 0}
        assert loading.load_new_files(con, data, log=lambda _: None) == {
            "csv_files": 0, "xml_files": 0, "rejected_files": 0,
        }  # fmt: skip
    (data.raw / "invoices/0159/jan.csv").unlink()
    (data.raw / "invoices/0159/jan-again.csv").unlink()
    files, lines, _ = ingest(data)
    assert files == [] and lines == []


def test_a_file_moved_out_of_a_wrong_folder_is_read_again_where_it_is_now(data):
    """A content is delivered where it was loaded (kind of folder and municipality): moved, it is loaded again,
    and nothing of the old place (rows, municipality, reasons) stays."""
    invoices = f"{HEADER}\n;F1;Faktura;2021-01-05;12345678;1;100,00;2.2;\n159;F2;Faktura;2021-01-05;12345678;1;5,00;2.2;\n"
    orders = "kommunekode;ordrenummer;ordrelinje;ordredato;leverandoer_cvr;beloeb\n159;PO1;1;2021-01-04;12345678;100,00\n"
    deliver(data, "invoices/0151/x.csv", invoices)  # Ballerup's folder: F2 names 159
    deliver(data, "invoices/abc/y.csv", invoices.replace("F1", "G1").replace("F2", "G2"))
    deliver(data, "invoices/0159/o.csv", orders)  # an order extract in the invoices folder
    files, lines, _ = ingest(data)
    assert [(source, state) for source, state, *_ in files] == [
        ("invoices/0151/x.csv", "loaded"), ("invoices/0159/o.csv", "rejected"), ("invoices/abc/y.csv", "rejected"),
    ]  # fmt: skip
    assert [(doc, reason, kommune) for doc, _, _, reason, kommune, *_ in lines] == [
        ("F1", None, "0151"),
        ("F2", "kommunekode 0159 in the row disagrees with the delivery folder 0151", "0151"),
    ]
    for old, new in [("invoices/0151/x.csv", "invoices/0159/x.csv"), ("invoices/abc/y.csv", "invoices/159/y.csv"),
                     ("invoices/0159/o.csv", "orders/0159/o.csv")]:  # fmt: skip
        (data.raw / new).parent.mkdir(parents=True, exist_ok=True)
        (data.raw / old).rename(data.raw / new)
    files, lines, _ = ingest(data)
    assert [(source, state, reason, rows) for source, state, reason, rows in files] == [
        ("invoices/0159/x.csv", "loaded", None, 2), ("invoices/159/y.csv", "loaded", None, 2),
        ("orders/0159/o.csv", "loaded", None, 1),
    ]  # fmt: skip
    assert sorted((doc, reason, kommune) for doc, _, _, reason, kommune, *_ in lines) == [
        ("F1", None, "0159"), ("F2", None, "0159"), ("G1", None, "0159"), ("G2", None, "0159"),
    ]  # fmt: skip


def test_no_file_under_a_kind_folder_is_ignored(data):
    """Files where none belongs are refused with a reason, not left out; a sub-folder of a municipality folder
    and an upper-case .XML are read."""
    fixtures = Path(__file__).parent / "fixtures/ubl/oioubl-official"
    row = f"{HEADER}\n159;F1;Faktura;2021-01-05;12345678;1;100,00;2.2;\n"
    deliver(data, "invoices/0159/2021/jan.csv", row)
    deliver(data, "invoices/loose.csv", row.replace("F1", "F2"))
    invoice = (fixtures / "2.0.2_BASPRO_01_01_00_Invoice_v2p2.xml").read_text(encoding="utf-8")
    deliver(data, "ubl/0159/INV1.XML", invoice)
    deliver(data, "ubl/0159/inv2.xml.bak", invoice.replace("A00095678", "BAK-1"))
    deliver(data, "ubl/inv3.xml", invoice.replace("A00095678", "LOOSE-1"))
    files, lines, _ = ingest(data)
    assert files == [
        ("invoices/0159/2021/jan.csv", "loaded", None, 1),
        ("invoices/loose.csv", "rejected", "the file is not in a municipality folder: move it to raw/invoices/<kommunekode>/", 0),
        ("ubl/0159/INV1.XML", "loaded", None, 2),
        ("ubl/0159/inv2.xml.bak", "rejected", "only .xml files are read in raw/ubl/ (e-documents as received): not an e-document", 0),
        ("ubl/inv3.xml", "rejected", "the file is not in a municipality folder: move it to raw/ubl/<kommunekode>/", 0),
    ]  # fmt: skip
    assert sorted({doc for doc, *_ in lines}) == ["A00095678", "F1"]


def test_the_listing_follows_every_change_of_the_raw_folder(data):
    """ingest.deliveries is written as a difference from the last scan: after a file is deleted, one is
    rewritten, one is touched and one arrives, it is exactly the folder as it is now."""
    first = f"{HEADER}\n159;F1;Faktura;2021-01-05;12345678;1;1;2.2;\n"
    deliver(data, "invoices/0159/a.csv", first, mtime=1_600_000_000)
    deliver(data, "invoices/0159/b.csv", first.replace("F1", "F2"), mtime=1_600_000_000)
    deliver(data, "invoices/0159/c.csv", first.replace("F1", "F3"), mtime=1_600_000_000)
    deliver(data, "invoices/abc/d.csv", first.replace("F1", "F4"), mtime=1_600_000_000)
    with connect(data.warehouse) as con:
        load_static_reference(con)
        assert loading.scan_deliveries(con, data) == {"files": 4, "hashed": 4}
        (data.raw / "invoices/0159/a.csv").unlink()
        deliver(data, "invoices/0159/b.csv", first.replace("F1", "F22"), mtime=1_600_000_000)  # new content
        os.utime(data.raw / "invoices/0159/c.csv", (1_700_000_000, 1_700_000_000))  # touched only
        deliver(data, "invoices/0101/e.csv", first.replace("F1", "F5"), mtime=1_600_000_000)
        assert loading.scan_deliveries(con, data) == {"files": 4, "hashed": 3}  # b, c and e read again
        listed = con.execute(
            "select source_file, folder_kommunekode, size_bytes, mtime_ns, content_hash, delivered_at::varchar "
            "from ingest.deliveries order by 1"
        ).fetchall()
    by_hand = []
    for relative, kommunekode, seconds in [
        ("invoices/0101/e.csv", "0101", 1_600_000_000),
        ("invoices/0159/b.csv", "0159", 1_600_000_000),
        ("invoices/0159/c.csv", "0159", 1_700_000_000),
        ("invoices/abc/d.csv", None, 1_600_000_000),  # not a municipality
    ]:
        content = (data.raw / relative).read_bytes()
        stamp = "2020-09-13 12:26:40" if seconds == 1_600_000_000 else "2023-11-14 22:13:20"
        by_hand.append(
            (relative, kommunekode, len(content), seconds * 10**9, hashlib.sha256(content).hexdigest(), stamp)
        )
    assert listed == by_hand


def test_a_truncated_xml_is_refused_whole_and_the_rest_loads(data):
    fixtures = Path(__file__).parent / "fixtures"
    folder = data.raw / "ubl/0159"
    folder.mkdir(parents=True)
    (folder / "ok.xml").write_bytes(
        (fixtures / "ubl/oioubl-official/2.0.2_BASPRO_01_01_00_Invoice_v2p2.xml").read_bytes()
    )
    (folder / "cut.xml").write_bytes((fixtures / "ubl_edge/truncated_invoice.xml").read_bytes())
    deliver(data, "invoices/0159/a.csv", f"{HEADER}\n159;F1;Faktura;2021-01-05;12345678;1;1;2.2;\n")
    files, lines, _ = ingest(data)
    status = {source: (state, reason) for source, state, reason, _ in files}
    assert status["ubl/0159/ok.xml"] == ("loaded", None)
    assert status["invoices/0159/a.csv"] == ("loaded", None)
    state, reason = status["ubl/0159/cut.xml"]
    assert state == "rejected" and "truncated" in reason
    assert {doc for doc, *_ in lines} == {"F1", "A00095678"}


def test_a_warehouse_of_an_older_ingest_shape_is_read_again(data):
    """The ingest tables are a cache of DIR/raw: a warehouse made by an older version reloads everything."""
    deliver(
        data, "invoices/0159/2021.csv", f"{HEADER}\n159;F1;Faktura;2021-03-01;12345678;1;100,00;2.2;PO1\n"
    )
    with connect(data.warehouse) as con:  # the shape before file keys: wide tables named *_lines
        con.execute("create table ingest.invoice_lines (file_id varchar, record_number bigint)")
        con.execute("create table ingest.files (file_id varchar primary key, kind varchar)")
        con.execute("insert into ingest.files values ('stale', 'invoices')")
    files, lines, _ = ingest(data)
    assert [(f[0], f[1], f[3]) for f in files] == [("invoices/0159/2021.csv", "loaded", 1)]
    assert [(line[0], line[2]) for line in lines] == [("F1", Decimal("100.00"))]


def test_batches_in_flight_two_at_a_time_keep_every_file_its_own_rows(data, monkeypatch):
    # One file a batch: seven batches, loaded two at a time on their own cursors and transactions.
    monkeypatch.setattr(loading, "BATCH_BYTES", 1)
    expected = {}
    for n, kommune in enumerate(["0101", "0147", "0151", "0153", "0155", "0157", "0159"], start=1):
        rows = [f"{kommune};{kommune}-F{i};Faktura;2021-01-05;12345678;1;{n},00;2.2;" for i in range(n)]
        if kommune == "0153":
            rows.append(f"{kommune};X;Faktura;2021-01-05;12345678;1;1,00;2.2;;extra")  # one field too many
        deliver(data, f"invoices/{kommune}/{kommune}.csv", "\n".join([HEADER, *rows]) + "\n")
        expected[kommune] = n
    files, lines, rejected = ingest(data)
    # rows read = the file's records (0153: its 4 lines and a 5th that could not be split)
    assert files == [
        (f"invoices/{k}/{k}.csv", "loaded", None, n + (k == "0153")) for k, n in sorted(expected.items())
    ]
    by_kommune: dict[str, list] = {}
    for document, _, amount, reason, kommune, *_ in lines:
        assert reason is None and document.startswith(kommune)
        by_kommune.setdefault(kommune, []).append(amount)
    assert by_kommune == {k: [Decimal(n)] * n for k, n in expected.items()}
    assert rejected == [  # the header is line 1, F5 line 6
        (6, "the line has more fields than the header (a delimiter inside an unquoted value?)")
    ]


def test_xml_batches_committed_while_the_next_are_parsed_give_the_rows_of_one_batch(tmp_path, monkeypatch):
    """Each batch of documents commits in a thread while the next is parsed: in batches of 3 (six commits, one
    of them refusing a document by a file check) every file ends as it does when all commit at once. The ingest
    SQL rejects an implausible date row by row: the file check is made stricter than it (MIN_DATE 2001) so that
    a document it accepts (2000) is refused whole."""
    from assets import xml_loading
    from assets.quality import files as file_checks

    monkeypatch.setattr(file_checks, "MIN_DATE", date(2001, 1, 1))
    official = Path(__file__).parent / "fixtures/ubl/oioubl-official"
    early = (official / "2.0.2_BASPRO_01_01_00_Invoice_v2p2.xml").read_text(encoding="utf-8")
    early = re.sub(
        r"<cbc:IssueDate>[^<]*</cbc:IssueDate>", "<cbc:IssueDate>2000-06-01</cbc:IssueDate>", early, count=1
    )
    early = early.replace("<cbc:ID>A00095678</cbc:ID>", "<cbc:ID>EARLY-1</cbc:ID>", 1)

    def run(batch_documents: int):
        monkeypatch.setattr(xml_loading, "BATCH_DOCUMENTS", batch_documents)
        data = DataDir.resolve(tmp_path / f"batches-of-{batch_documents}")
        for path in sorted(official.glob("*.xml")):
            deliver(data, f"ubl/0159/{path.name}", path.read_text(encoding="utf-8"))
        deliver(data, "ubl/0159/zz_early.xml", early)
        return ingest(data)

    files, lines, rejected = run(3)
    assert (files, lines, rejected) == run(xml_loading.BATCH_DOCUMENTS)
    assert len(files) == 15
    status = {source: (state, reason) for source, state, reason, _ in files}
    state, reason = status["ubl/0159/zz_early.xml"]
    assert state == "rejected" and "file_dates_plausible" in reason
    assert all(
        state == "loaded" for source, (state, _) in status.items() if source != "ubl/0159/zz_early.xml"
    )
    assert "EARLY-1" not in {document for document, *_ in lines}


def test_a_file_rewritten_with_its_old_size_and_mtime_is_read_again(data):
    """A correction of the same length whose mtime was set back (touch -d, rsync -t, unzip) is new content all the
    same: its ctime changed, so it is hashed again. An independent audit found the old content kept, as the listing
    compared size and mtime only."""
    first = f"{HEADER}\n159;F1;Faktura;2021-01-05;12345678;1;469,36;2.2;\n"
    path = deliver(data, "invoices/0159/a.csv", first, mtime=1_600_000_000)
    _, lines, _ = ingest(data)
    assert [line[2] for line in lines] == [Decimal("469.36")]
    size = path.stat().st_size
    deliver(data, "invoices/0159/a.csv", first.replace("469,36", "469,37"), mtime=1_600_000_000)
    assert path.stat().st_size == size and path.stat().st_mtime_ns == 1_600_000_000 * 10**9
    _, lines, _ = ingest(data)
    assert [line[2] for line in lines] == [Decimal("469.37")]
    with connect(data.warehouse) as con:
        assert loading.scan_deliveries(con, data) == {"files": 1, "hashed": 0}  # unchanged since: not hashed


def test_a_warehouse_from_before_the_ctime_hashes_its_files_once_and_reloads_nothing(data):
    """ingest.deliveries gained ctime_ns: an older warehouse gets the column, hashes each file once more (its
    stamp is unknown) and finds the same contents, so no file is loaded again."""
    deliver(data, "invoices/0159/a.csv", f"{HEADER}\n159;F1;Faktura;2021-01-05;12345678;1;10,00;2.2;\n")
    ingest(data)
    with connect(data.warehouse) as con:
        con.execute("alter table ingest.deliveries drop column ctime_ns")
        keys = con.execute("select file_id, file_key from ingest.files").fetchall()
        assert loading.scan_deliveries(con, data) == {"files": 1, "hashed": 1}
        assert loading.load_new_files(con, data, log=lambda _: None)["csv_files"] == 0
        assert con.execute("select file_id, file_key from ingest.files").fetchall() == keys
        assert loading.scan_deliveries(con, data) == {"files": 1, "hashed": 0}
