"""The environment variables of pipelines/settings.py."""

import duckdb
import pytest

from pipelines import settings
from pipelines.warehouse import connect


def test_memory_limit_reaches_duckdb(monkeypatch):
    monkeypatch.setenv("EHANDEL_MEMORY_LIMIT", "1GB")
    with connect() as con:
        (limit,) = con.execute("select current_setting('memory_limit')").fetchall()[0]
    with duckdb.connect(config={"memory_limit": "1GB"}) as bare:
        (expected,) = bare.execute("select current_setting('memory_limit')").fetchall()[0]
    assert limit == expected


@pytest.mark.parametrize("value", ["lots", "4", "GB4", "-1GB"])
def test_a_memory_limit_that_is_not_a_size_is_refused(monkeypatch, value):
    monkeypatch.setenv("EHANDEL_MEMORY_LIMIT", value)
    with pytest.raises(ValueError, match="EHANDEL_MEMORY_LIMIT"):
        settings.memory_limit()


def test_defaults_and_overrides(monkeypatch, tmp_path):
    for name in (
        "EHANDEL_MEMORY_LIMIT",
        "EHANDEL_LOG_LEVEL",
        "EHANDEL_CODE_VERSION",
        "DAGSTER_HOME",
        "EHANDEL_DATA_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    assert settings.memory_limit() == "4GB"
    assert settings.log_level() == "INFO"
    assert settings.code_version_override() is None
    assert settings.dagster_home() == settings.DAGSTER_HOME.resolve()
    assert settings.DataDir.resolve().root == settings.DEFAULT_DATA_DIR.resolve()
    monkeypatch.setenv("EHANDEL_LOG_LEVEL", "debug")
    monkeypatch.setenv("EHANDEL_CODE_VERSION", "abc123")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EHANDEL_DATA_DIR", str(tmp_path / "data"))
    assert settings.log_level() == "DEBUG"
    assert settings.code_version_override() == "abc123"
    assert settings.dagster_home() == tmp_path / "home"
    assert settings.DataDir.resolve().root == tmp_path / "data"
