"""Hostile input through the real pipeline: XXE and billion laughs, monstrous CSV files, personal data, paths.

Each test delivers the hand-made tiny data set plus one hostile file, runs the whole job in-process on real
DuckDB files under tmp_path, and looks at every output."""

import os
import resource
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from pipelines.definitions import build_definitions
from reports.render import OTHER_REASON_DA, reason_group_da
from tests.test_end_to_end import INVOICE_HEADER, A, tiny_data_set, write

EDGE = Path(__file__).parent / "fixtures" / "ubl_edge"
GOOD_LINE = f"G1;Faktura;2021-02-05;{A};;;1;2.2;;600,00"


def run_job(root: Path) -> None:
    job = build_definitions(str(root)).resolve_job_def("refresh_warehouse")
    with DagsterInstance.ephemeral() as instance:
        assert job.execute_in_process(instance=instance, raise_on_error=False).success


def quarantine(root: Path) -> list[tuple]:
    """The quarantine's rows; every reason the pipeline wrote has a Danish group for the published pages."""
    with duckdb.connect() as con:
        rows = con.execute(
            "select source_file, line_number, reason, raw_record from read_parquet(?) order by all",
            [str(root / "marts/quarantine.parquet")],
        ).fetchall()
    assert [r[2] for r in rows if reason_group_da(r[2]) == OTHER_REASON_DA] == []
    return rows


def file_status(root: Path, source_file: str) -> tuple:
    with duckdb.connect() as con:
        row = con.execute(
            "select status, reason, rows_read, rows_accepted, rows_quarantined from read_parquet(?) "
            "where source_file = ?",
            [str(root / "marts/ingest_log.parquet"), source_file],
        ).fetchone()
    assert row is not None, f"{source_file} is not in the ingest log"
    return row


def warehouse_holds(root: Path, marker: str) -> list[str]:
    """Every warehouse column (of every table, any schema) with a value holding `marker`."""
    found = []
    with duckdb.connect(str(root / "marts/warehouse.duckdb"), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database()"
        ).fetchall()
        for schema, table, column in columns:
            hit = con.execute(
                f'select count(*) from "{schema}"."{table}" where position(? in cast("{column}" as varchar)) > 0',
                [marker],
            ).fetchone()
            if hit and hit[0]:
                found.append(f"{schema}.{table}.{column}")
    return found


def files_holding(folder: Path, marker: str) -> list[str]:
    """Every file under `folder` (symlinks followed) whose content holds `marker`; Parquet and xlsx decoded."""
    found = []
    for path in sorted(Path(os.path.realpath(folder)).rglob("*")):
        if not path.is_file() or path.suffix == ".duckdb" or path.name.endswith(".wal"):
            continue
        if path.suffix == ".parquet":
            with duckdb.connect() as con:
                text = str(con.execute("select * from read_parquet(?)", [str(path)]).fetchall())
            content = text.encode()
        elif path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                content = b"".join(archive.read(name) for name in archive.namelist())
        else:
            content = path.read_bytes()
        if marker.encode() in content:
            found.append(str(path))
    return found


# --- XML ---------------------------------------------------------------------------------------------------


def test_xxe_reads_no_secret_into_any_output(tmp_path):
    secret_marker = "TOPSECRET-7f3a9c"
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{secret_marker}\n", encoding="utf-8")
    root = tmp_path / "data"
    tiny_data_set(root)
    for fixture in ("xxe_local_file.xml", "xxe_parameter_entity.xml"):
        text = (EDGE / fixture).read_text(encoding="utf-8").replace("file:///etc/passwd", secret.as_uri())
        write(root / "raw/ubl/0159" / fixture, [text])
    run_job(root)
    refused = [q for q in quarantine(root) if q[0].startswith("ubl/")]
    assert [q[0] for q in refused] == ["ubl/0159/xxe_local_file.xml", "ubl/0159/xxe_parameter_entity.xml"]
    assert all("DTD" in q[2] or "DOCTYPE" in q[2] for q in refused), refused
    assert warehouse_holds(root, secret_marker) == []
    assert files_holding(root, secret_marker) == []


def test_billion_laughs_is_quarantined_in_bounded_memory(tmp_path):
    root = tmp_path / "data"
    tiny_data_set(root)
    for fixture in ("billion_laughs.xml", "billion_laughs_utf16.xml"):
        (root / "raw/ubl/0159").mkdir(parents=True, exist_ok=True)
        shutil.copy(EDGE / fixture, root / "raw/ubl/0159" / fixture)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run_job(root)
    # ru_maxrss is in KiB: the expansion would need gigabytes; this process and its parser pool stay far below.
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert grown < 1024 * 1024 and children < 1024 * 1024, (grown, children)
    refused = {q[0]: q[2] for q in quarantine(root) if q[0].startswith("ubl/")}
    assert sorted(refused) == ["ubl/0159/billion_laughs.xml", "ubl/0159/billion_laughs_utf16.xml"]
    assert all(reason for reason in refused.values())
    assert file_status(root, "ubl/0159/billion_laughs.xml")[0] == "rejected"


# --- CSV ---------------------------------------------------------------------------------------------------


def test_a_line_of_hundreds_of_megabytes_is_quarantined(tmp_path):
    root = tmp_path / "data"
    tiny_data_set(root)
    path = root / "raw/invoices/0159/long.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(f"{INVOICE_HEADER}\n{GOOD_LINE}\n")
        handle.write(f"G2;Faktura;2021-02-05;{A};;;1;2.2;;")
        chunk = "9" * 2**20
        for _ in range(300):  # 300 MB on one line, far over DuckDB's max_line_size (2 MB)
            handle.write(chunk)
        handle.write(f"\n{GOOD_LINE.replace('G1', 'G3')}\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run_job(root)
    # DuckDB would drop the line silently: the file is refused whole, naming the line.
    status, reason, *_ = file_status(root, "invoices/0159/long.csv")
    assert status == "rejected" and reason.startswith("line 3 is longer than 2 MB")
    (row,) = [q for q in quarantine(root) if q[0] == "invoices/0159/long.csv"]
    assert row[1] is None and row[2] == reason
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 1024 * 1024


def test_a_header_of_millions_of_columns_is_refused(tmp_path):
    root = tmp_path / "data"
    tiny_data_set(root)
    with (root / "raw/invoices/0159/wide.csv").open("w", encoding="utf-8") as handle:
        handle.write(INVOICE_HEADER + ";x" * 2_000_000 + f"\n{GOOD_LINE}\n")
    # Under the sample size, but still far more columns than any extract.
    (root / "raw/invoices/0440/wide.csv").write_text(
        INVOICE_HEADER + "".join(f";x{i}" for i in range(20_000)) + f"\n{GOOD_LINE}\n", encoding="utf-8"
    )
    run_job(root)
    wide = file_status(root, "invoices/0159/wide.csv")
    assert wide[0] == "rejected" and "first line is longer than" in wide[1]
    narrower = file_status(root, "invoices/0440/wide.csv")
    assert narrower[0] == "rejected" and "columns (at most 1,000 are read)" in narrower[1]


def test_nul_bytes_refuse_the_file_or_quarantine_the_line(tmp_path):
    root = tmp_path / "data"
    tiny_data_set(root)
    nul_line = f"G2;Faktura;2021-02-05;{A}\x00;;;1;2.2;;1,00\n".encode()
    (root / "raw/invoices/0159/nul_early.csv").write_bytes(f"{INVOICE_HEADER}\n".encode() + nul_line)
    padding = "".join(f"{GOOD_LINE.replace('G1', f'P{i}')}\n" for i in range(8000)).encode()
    (root / "raw/invoices/0440/nul_late.csv").write_bytes(f"{INVOICE_HEADER}\n".encode() + padding + nul_line)
    run_job(root)
    early = file_status(root, "invoices/0159/nul_early.csv")
    assert early[0] == "rejected" and "NUL" in early[1]
    late = file_status(root, "invoices/0440/nul_late.csv")
    assert late[0] == "loaded" and late[2:] == (8001, 8000, 1)
    (row,) = [q for q in quarantine(root) if q[0] == "invoices/0440/nul_late.csv"]
    assert row[1] == 8002 and row[2]


def test_mixed_encodings_quarantine_the_foreign_lines_with_a_reason(tmp_path):
    """UTF-8 for the first 256 KB (what the sniffer reads), then a Windows-1252 line."""
    root = tmp_path / "data"
    tiny_data_set(root)
    header = INVOICE_HEADER.replace(";beloeb", ";varebeskrivelse;beloeb")
    utf8 = "".join(f"U{i};Faktura;2021-02-05;{A};;;1;2.2;;Blåbær;1,00\n" for i in range(8000))
    cp1252 = f"W1;Faktura;2021-02-05;{A};;;1;2.2;;Rødgrød – stor;2,00\n"
    (root / "raw/invoices/0159/mixed.csv").write_bytes(f"{header}\n{utf8}".encode() + cp1252.encode("cp1252"))
    run_job(root)
    status, _, rows_read, accepted, quarantined = file_status(root, "invoices/0159/mixed.csv")
    assert (status, rows_read, accepted, quarantined) == ("loaded", 8001, 8000, 1)
    (row,) = [q for q in quarantine(root) if q[0] == "invoices/0159/mixed.csv"]
    assert row[1] == 8002 and "encoding" in row[2]


# --- personal data -----------------------------------------------------------------------------------------


def test_descriptions_and_quarantined_records_never_reach_the_published_pages(tmp_path):
    marker = "Medarbejder-Jensen-4711"
    root = tmp_path / "data"
    tiny_data_set(root)
    header = INVOICE_HEADER.replace(";beloeb", ";varebeskrivelse;beloeb")
    write(root / "raw/invoices/0440/udlaeg.csv", [
        header,
        f"U1;Faktura;2021-06-03;{A};;;1;2.2;;Personaleudlæg {marker} kørsel;250,00",  # an accepted line
        f"U2;Faktura;2021-13-03;{A};;;1;2.2;;Udlæg {marker};99,00",  # quarantined: no such date
        f"U3;Faktura;2021-06-03;{A};;;1;2.2;;{marker};1,00;ekstra",  # quarantined: a field too many
        f"U4;Faktura;{marker};{A};;;1;2.2;;Kørsel;1,00",  # shifted: the name quoted in the reason
    ])  # fmt: skip
    run_job(root)
    # The marker is in the internal marts (the test would otherwise prove nothing) ...
    assert [q for q in quarantine(root) if q[0] == "invoices/0440/udlaeg.csv" and marker in (q[3] or "")]
    assert warehouse_holds(root, marker)
    # ... and in no page, chart payload or download.
    assert files_holding(root / "reports", marker) == []


# --- paths -------------------------------------------------------------------------------------------------


def test_nothing_in_an_input_reads_or_writes_outside_the_data_directory(tmp_path):
    marker = "OUTSIDE-RAW-5150"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "2021.csv").write_text(f"{INVOICE_HEADER}\nX1;Faktura;2021-01-10;{A};;;1;2.2;;{marker}\n")
    root = tmp_path / "data"
    tiny_data_set(root)
    raw = root / "raw"
    os.symlink(outside / "2021.csv", raw / "invoices/0159/link.csv")  # a file linked from outside raw/
    os.symlink(outside, raw / "invoices/0101")  # a whole municipality folder linked from outside
    (raw / "ubl/0159").mkdir(parents=True)
    os.symlink(outside, raw / "ubl/0159/linked")
    # Hostile names and values: quotes, a newline, dots; a kommunekode column pointing upwards.
    hostile = [
        'it\'s "quoted".csv',
        "new\nline.csv",
        "a..b.csv",
        "-rf .. ; $(x).csv",
    ]
    header = "kommunekode;" + INVOICE_HEADER
    write(raw / "invoices/0860/..csv", [header, f"0860;D1;Faktura;2021-01-10;{A};;;1;2.2;;10,00"])  # hidden
    for index, name in enumerate(hostile):
        write(raw / "invoices/0860" / name, [header, f"0860;H{index};Faktura;2021-01-10;{A};;;1;2.2;;10,00"])
    write(raw / "invoices/0860/escape.csv", [header, f"../../etc;E1;Faktura;2021-01-10;{A};;;1;2.2;;10,00"])
    before = {p for p in tmp_path.rglob("*") if not p.is_relative_to(root)}
    run_job(root)
    assert {p for p in tmp_path.rglob("*") if not p.is_relative_to(root)} == before  # nothing written outside
    assert warehouse_holds(root, marker) == []  # nothing read through a link
    with duckdb.connect() as con:
        sources = [
            r[0]
            for r in con.execute(
                "select source_file from read_parquet(?)", [str(root / "marts/ingest_log.parquet")]
            ).fetchall()
        ]
    assert not [s for s in sources if "link" in s or s.startswith("invoices/0101") or s.endswith("/..csv")]
    for name in hostile:  # each read as an ordinary delivery
        assert file_status(root, f"invoices/0860/{name}")[:3] == ("loaded", None, 1), name
    escape = [q for q in quarantine(root) if q[0] == "invoices/0860/escape.csv"]
    assert escape and escape[0][2]
    reports = Path(os.path.realpath(root / "reports"))
    published = {p.relative_to(reports) for p in reports.rglob("*.html")}
    assert all(".." not in p.parts for p in published)
    pages = [p for p in published if len(p.parts) == 2 and p.stem != "index"]  # <year>/<kommunekode>.html
    assert pages and all(p.stem.isdigit() and len(p.stem) == 4 for p in pages)


@pytest.mark.parametrize("code", ["../../etc", "..", "0159/../../x", "01590"])
def test_report_file_names_accept_only_four_digit_codes(code):
    from reports import formatting

    with pytest.raises(ValueError):
        formatting.kommunekode(code)
