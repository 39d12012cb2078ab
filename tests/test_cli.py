"""The `ehandel` command line on bad usage: one line on stderr naming what is wrong, a non-zero exit, no traceback."""

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app

UBL = Path(__file__).parent / "fixtures" / "ubl"


def invoke(*args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ehandel: ")
    return lines[0]


def test_run_names_a_data_directory_that_is_missing_or_a_file(tmp_path):
    missing = invoke("run", "--data-dir", str(tmp_path / "nowhere"))
    assert missing.exit_code == 1
    assert one_line(missing) == f"ehandel: the data directory {tmp_path / 'nowhere'} does not exist"
    (tmp_path / "afile.txt").write_text("x")
    a_file = invoke("run", "--data-dir", str(tmp_path / "afile.txt"))
    assert a_file.exit_code == 1
    assert one_line(a_file) == f"ehandel: the data directory {tmp_path / 'afile.txt'} is a file, not a folder"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("EHANDEL_MEMORY_LIMIT", "lots", "ehandel: EHANDEL_MEMORY_LIMIT='lots' is not a size such as 4GB"),
        ("EHANDEL_LOG_LEVEL", "bogus", "ehandel: EHANDEL_LOG_LEVEL='BOGUS' is not one of DEBUG, INFO, WARNING, "
         "ERROR, CRITICAL"),
    ],
)  # fmt: skip
def test_run_refuses_a_bad_setting_before_it_starts(tmp_path, variable, value, expected):
    (tmp_path / "raw").mkdir()
    result = invoke("run", "--data-dir", str(tmp_path), env={variable: value})
    assert result.exit_code == 1 and one_line(result) == expected
    assert not (tmp_path / "marts").exists()  # nothing started


def test_a_corrupt_warehouse_is_named_in_one_line(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "marts").mkdir()
    (tmp_path / "marts" / "warehouse.duckdb").write_bytes(os.urandom(4096))
    result = invoke("run", "--data-dir", str(tmp_path), env={"DAGSTER_HOME": str(tmp_path / "dagster")})
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ehandel: ") and "warehouse.duckdb" in last, last


def test_generate_onto_a_file_is_refused_in_one_line(tmp_path):
    (tmp_path / "afile.txt").write_text("x")
    result = invoke(
        "generate", "--data-dir", str(tmp_path / "afile.txt"), "--scale", "0.001", "--years", "2021"
    )
    assert result.exit_code == 1
    assert one_line(result) == f"ehandel: the data directory {tmp_path / 'afile.txt'} is a file, not a folder"


def test_inspect_names_the_file_it_cannot_read(tmp_path):
    missing = invoke("inspect", str(tmp_path / "nothing.xml"))
    assert missing.exit_code == 1
    assert one_line(missing).startswith(f"ehandel: {tmp_path / 'nothing.xml'}: the file cannot be read")
    assert '"error"' in missing.stdout  # the JSON, for scripts
    csv = tmp_path / "lines.csv"
    csv.write_text("fakturanummer;beloeb\nF1;1,00\n")
    not_xml = invoke("inspect", str(csv))
    assert not_xml.exit_code == 1 and one_line(not_xml).startswith(f"ehandel: {csv}: not an XML document")


def test_a_run_on_an_empty_raw_folder_warns_and_goes_on(tmp_path):
    (tmp_path / "raw").mkdir()
    result = invoke("run", "--data-dir", str(tmp_path), env={"DAGSTER_HOME": str(tmp_path / "dagster")})
    assert result.exit_code == 0, result.stderr
    assert (
        f"ehandel: warning: {tmp_path / 'raw'} holds no files under invoices/, orders/ or ubl/: the reports will "
        "have no figures"
    ) in result.stderr
