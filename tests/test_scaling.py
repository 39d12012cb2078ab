"""Beyond one machine (docs/scaling.md): the Hive-partitioned export of the marts, and the Kubernetes config
in deploy/ checked against Dagster's, dagster-postgres's and dagster-k8s's own schemas, without a cluster."""

import importlib
import importlib.util
import json
import re
import shutil
import uuid
from pathlib import Path

import duckdb
import fsspec
import pytest
import yaml
from dagster import DagsterInstance
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.definitions import build_definitions
from pipelines.export import ExportError, export_published, published_marts_dir
from pipelines.settings import PROJECT_ROOT, DataDir
from tests.report_fixtures import fail_an_error_check
from tests.test_end_to_end import tiny_data_set

DEPLOY = PROJECT_ROOT / "deploy"
K8S = DEPLOY / "k8s"

pytestmark = pytest.mark.xdist_group("scaling")  # one worker runs the pipeline for this module, once


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- the export -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A data directory after one complete run of the tiny data set (2020 and 2021; one quarantined row)."""
    root = tmp_path_factory.mktemp("scaling") / "data"
    tiny_data_set(root)
    job = build_definitions(str(root)).resolve_job_def("refresh_warehouse")
    with DagsterInstance.ephemeral() as instance:
        assert job.execute_in_process(instance=instance, raise_on_error=True).success
    return root


def read_back(target: str, name: str, columns: list[str]) -> str:
    """The exported mart as a query with the published mart's columns in their order."""
    if "year" in columns:  # the rule of the export: a mart with a year column is partitioned by it
        source = f"read_parquet('{target}/{name}/*/*.parquet', hive_partitioning = true)"
    else:
        source = f"read_parquet('{target}/{name}.parquet')"
    return f"select {', '.join(columns)} from {source}"


def assert_same_as_published(published_marts: Path, target: str, con: duckdb.DuckDBPyConnection) -> None:
    names = sorted(path.stem for path in published_marts.glob("*.parquet"))
    assert names, published_marts
    partitioned = 0
    for name in names:
        original = f"read_parquet('{published_marts / name}.parquet')"
        columns = [row[0] for row in con.execute(f"describe select * from {original}").fetchall()]
        exported = read_back(target, name, columns)
        if "year" in columns:
            partitioned += 1
            assert con.execute(
                f"select count(*) > 0 from glob('{target}/{name}/year=*/*.parquet')"
            ).fetchone() == (True,)
            years = "select list(distinct year order by year) from ({})"
            assert (
                con.execute(years.format(exported)).fetchone()
                == con.execute(years.format(f"from {original}")).fetchone()
            ), name
        count = "select count(*) from ({})"
        assert (
            con.execute(count.format(exported)).fetchone()
            == con.execute(count.format(f"from {original}")).fetchone()
        ), name
        # Not only the counts: the same rows, both ways.
        for first, second in (
            (f"select * from {original}", exported),
            (exported, f"select * from {original}"),
        ):
            assert con.execute(f"select count(*) from ({first} except all {second})").fetchone() == (0,), name
    assert partitioned >= 8  # kpi, category, industry (national and municipal), coverage, quality ...


def test_the_export_to_a_folder_reads_back_as_the_published_marts(published, tmp_path):
    source = published_marts_dir(DataDir.resolve(published))
    assert source.parent.parent.name == ".publications"  # the current publication, resolved once
    target = tmp_path / "export"

    exported = export_published(source, str(target))

    by_name = {mart.name: mart for mart in exported}
    assert by_name["kpi_national"].years == (2020, 2021) and by_name["kpi_national"].partitioned
    assert not by_name["checks"].partitioned and (target / "checks.parquet").is_file()
    assert sorted(p.name for p in (target / "kpi_national").iterdir()) == ["year=2020", "year=2021"]
    with duckdb.connect() as con:
        assert_same_as_published(source, str(target), con)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    published_manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] == published_manifest["run_id"]
    assert manifest["marts"]["kpi_national"] == {
        "location": "kpi_national/",
        "rows": 2,
        "years": [2020, 2021],
    }
    assert not [p for p in target.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_the_export_through_fsspec_reads_back_as_the_published_marts(published):
    source = published_marts_dir(DataDir.resolve(published))
    target = f"memory://ehandel-{uuid.uuid4().hex}/marts"
    memory = fsspec.filesystem("memory")
    try:
        export_published(source, target)
        with duckdb.connect() as con:
            con.register_filesystem(memory)
            assert_same_as_published(source, target, con)
        manifest = json.loads(memory.cat_file(f"{target.removeprefix('memory://')}/manifest.json"))
        assert manifest["marts"]["quarantine"]["rows"] == 1
    finally:
        memory.rm(target.removeprefix("memory://").split("/")[0], recursive=True)


def test_a_new_export_replaces_the_previous_one_mart_by_mart(published, tmp_path):
    source = published_marts_dir(DataDir.resolve(published))
    target = tmp_path / "export"
    export_published(source, str(target))
    # What the previous export left that is no longer true: a year and a mart that are not published now.
    stale_year = target / "kpi_national" / "year=1999"
    stale_year.mkdir()
    (stale_year / "data_0.parquet").write_bytes((target / "checks.parquet").read_bytes())
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    manifest["marts"]["retired_mart"] = {"location": "retired_mart.parquet", "rows": 0, "years": []}
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (target / "retired_mart.parquet").write_bytes(b"PAR1")
    (target / "someone_elses.txt").write_text("kept", encoding="utf-8")

    export_published(source, str(target))

    assert not stale_year.exists() and not (target / "retired_mart.parquet").exists()
    assert (target / "someone_elses.txt").exists()  # only what an export wrote is removed
    with duckdb.connect() as con:
        assert_same_as_published(source, str(target), con)


def test_the_public_export_has_no_raw_records(published, tmp_path):
    source = published_marts_dir(DataDir.resolve(published))
    export_published(source, str(tmp_path / "public"), public=True)
    with duckdb.connect() as con:
        columns = [
            row[0]
            for row in con.execute(
                f"describe select * from read_parquet('{tmp_path}/public/quarantine/*/*.parquet', hive_partitioning = true)"
            ).fetchall()
        ]
        reason = con.execute(
            f"select reason from read_parquet('{tmp_path}/public/quarantine/*/*.parquet')"
        ).fetchone()
    assert "raw_record" not in columns
    assert reason == ("fakturadato '…' is not a date (e.g. 2021-03-31 or 31-03-2021)",)


def test_the_public_export_leaves_out_the_years_an_error_check_withholds(published, tmp_path):
    marts = tmp_path / "marts"
    shutil.copytree(published_marts_dir(DataDir.resolve(published)), marts)
    fail_an_error_check(marts / "checks.parquet", [2020])
    export_published(marts, str(tmp_path / "public"), public=True)
    export_published(marts, str(tmp_path / "internal"))
    kpi = "kpi_municipality"
    assert sorted(p.name for p in (tmp_path / "public" / kpi).iterdir()) == ["year=2021"]
    assert sorted(p.name for p in (tmp_path / "internal" / kpi).iterdir()) == ["year=2020", "year=2021"]

    fail_an_error_check(marts / "checks.parquet", None)  # a failure naming no year withholds every year
    with pytest.raises(
        ExportError, match="nothing may be published: ERROR check kpi_national_shares_in_range"
    ):
        export_published(marts, str(tmp_path / "none"), public=True)


def test_ehandel_export_on_the_command_line(published, tmp_path):
    runner = CliRunner()
    done = runner.invoke(app, ["export", "--to", str(tmp_path / "cli"), "--data-dir", str(published)])
    assert done.exit_code == 0, done.output
    assert re.search(r"Exported \d+ marts \(\d+ by year, 2020-2021; [\d,]+ rows\) to ", done.output)
    assert (tmp_path / "cli" / "kpi_municipality" / "year=2021").is_dir()

    empty = runner.invoke(
        app, ["export", "--to", str(tmp_path / "none"), "--data-dir", str(tmp_path / "empty")]
    )
    assert empty.exit_code == 1 and "no published marts" in empty.output
    unknown = runner.invoke(app, ["export", "--to", "nosuchscheme://x", "--data-dir", str(published)])
    assert unknown.exit_code == 1 and "cannot write to nosuchscheme://x" in unknown.output
    (tmp_path / "afile.txt").write_text("x")  # the target's own file system refuses: one line, no traceback
    onto_a_file = runner.invoke(
        app, ["export", "--to", str(tmp_path / "afile.txt"), "--data-dir", str(published)]
    )
    assert onto_a_file.exit_code == 1
    assert onto_a_file.stderr.strip().splitlines() == [
        f"ehandel: cannot export to {tmp_path / 'afile.txt'}: FileExistsError: [Errno 17] File exists: "
        f"'{tmp_path / 'afile.txt'}'"
    ]


# --- the Kubernetes config ------------------------------------------------------------------------------


@pytest.fixture
def instance_yaml(monkeypatch) -> dict:
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "not-a-secret")  # the storages read it from the environment
    return load_yaml(K8S / "dagster.yaml")


def configurable_class(section: dict):
    return getattr(importlib.import_module(section["module"]), section["class"])


def test_the_k8s_instance_is_valid_for_dagster_and_every_class_it_names(instance_yaml, tmp_path):
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config

    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(instance_yaml), encoding="utf-8")
    dagster_instance_config(
        str(tmp_path)
    )  # the instance schema, concurrency rules included; raises if invalid

    sections = [key for key, value in instance_yaml.items() if isinstance(value, dict) and "module" in value]
    assert set(sections) >= {"run_storage", "event_log_storage", "schedule_storage", "run_launcher"}
    for key in sections:
        cls = configurable_class(instance_yaml[key])
        result = process_config(cls.config_type(), instance_yaml[key].get("config", {}))
        assert result.success, (key, [error.message for error in result.errors or []])


def test_the_postgres_storages_name_a_driver_that_is_installed(instance_yaml):
    from dagster._config import process_config
    from dagster_postgres.utils import pg_url_from_config
    from sqlalchemy import create_engine

    # SQLAlchemy 2.1 reads a bare postgresql:// with psycopg 3; dagster-postgres installs psycopg2. The
    # engine imports its driver when it is made (no connection yet): a missing one fails here, not in a pod.
    for key in ("run_storage", "event_log_storage", "schedule_storage"):
        section = instance_yaml[key]
        config = process_config(configurable_class(section).config_type(), section["config"]).value
        assert config is not None
        create_engine(pg_url_from_config(config)).dispose()


def test_the_run_launcher_is_dagster_k8s_and_builds_a_run_pod(instance_yaml):
    from dagster._config import process_config
    from dagster_k8s import K8sRunLauncher
    from dagster_k8s.job import DagsterK8sJobConfig, UserDefinedDagsterK8sConfig, construct_dagster_k8s_job

    section = instance_yaml["run_launcher"]
    assert configurable_class(section) is K8sRunLauncher
    result = process_config(K8sRunLauncher.config_type(), section["config"])
    assert result.success, [error.message for error in result.errors or []]
    config = result.value
    assert config is not None

    # The Kubernetes Job of a run as the launcher makes it, through the kubernetes client's models.
    job_config = DagsterK8sJobConfig(
        **{key: value for key, value in config.items() if key in DagsterK8sJobConfig._fields}
    ).with_image("registry.example.org/ehandel:test")
    job = construct_dagster_k8s_job(
        job_config,
        args=["dagster", "api", "execute_run", "{}"],
        job_name="dagster-run-test",
        user_defined_k8s_config=UserDefinedDagsterK8sConfig.from_dict(config["run_k8s_config"]),
    )
    assert job.spec is not None
    pod = job.spec.template.spec
    container = pod.containers[0]
    claims = {v.name: v.persistent_volume_claim.claim_name for v in pod.volumes if v.persistent_volume_claim}
    assert claims == {"ehandel-data": "ehandel-data"}
    assert {(m.name, m.mount_path) for m in container.volume_mounts} >= {("ehandel-data", "/data")}
    env = {e.name: e.value for e in container.env}
    assert env["EHANDEL_DATA_DIR"] == "/data" and env["DAGSTER_HOME"] == config["dagster_home"]
    assert container.resources.limits["memory"] == "8Gi" and pod.security_context.fs_group == 10001


def test_the_helm_values_say_what_the_instance_says(instance_yaml):
    from dagster_k8s.models import k8s_model_from_dict, k8s_snake_case_dict
    from kubernetes.client import V1PodSecurityContext, V1Volume, V1VolumeMount

    def model(model_class, camel_case: dict):  # what the chart passes on, read by the kubernetes client
        return k8s_model_from_dict(model_class, k8s_snake_case_dict(model_class, camel_case))

    values = load_yaml(K8S / "values.yaml")
    launcher = instance_yaml["run_launcher"]["config"]
    (deployment,) = values["dagster-user-deployments"]["deployments"]

    # The code location is pipelines.definitions, served from the image deploy/Dockerfile builds.
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "pipelines.definitions"]
    assert importlib.util.find_spec("pipelines.definitions") is not None
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert '"-m", "pipelines.definitions"' in dockerfile and "--group k8s" in dockerfile
    assert f"DAGSTER_HOME={values['global']['dagsterHome']}" in dockerfile
    assert values["global"]["dagsterHome"] == launcher["dagster_home"]
    uv_version = re.search(r"^UV_VERSION := (\S+)$", (PROJECT_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert uv_version and f"ghcr.io/astral-sh/uv:{uv_version.group(1)} " in dockerfile

    # The data volume: the claim of data-pvc.yaml, mounted where EHANDEL_DATA_DIR points, in both.
    claim = load_yaml(K8S / "data-pvc.yaml")["metadata"]["name"]
    volumes = [model(V1Volume, v) for v in deployment["volumes"]]
    mounts = [model(V1VolumeMount, m) for m in deployment["volumeMounts"]]
    assert [v.persistent_volume_claim and v.persistent_volume_claim.claim_name for v in volumes] == [claim]
    assert [v["persistent_volume_claim"]["claim_name"] for v in launcher["volumes"]] == [claim]
    data_dir = {e["name"]: e["value"] for e in deployment["env"]}["EHANDEL_DATA_DIR"]
    assert f"EHANDEL_DATA_DIR={data_dir}" in launcher["env_vars"]
    assert (
        [m.mount_path for m in mounts] == [data_dir] == [m["mount_path"] for m in launcher["volume_mounts"]]
    )
    assert model(V1PodSecurityContext, deployment["podSecurityContext"]).fs_group == 10001

    # The run launcher, its pods' size, one run and one warehouse writer at a time.
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert values["runLauncher"]["type"] == instance_yaml["run_launcher"]["class"] == "K8sRunLauncher"
    assert k8s["resources"] == launcher["resources"]
    assert "resources" not in deployment  # it would be passed to every run pod and replace the launcher's
    concurrency = values["concurrency"]
    assert concurrency["enabled"]
    assert (
        concurrency["runs"]["maxConcurrentRuns"]
        == instance_yaml["concurrency"]["runs"]["max_concurrent_runs"]
        == 1
    )
    assert concurrency["pools"]["defaultLimit"] == instance_yaml["concurrency"]["pools"]["default_limit"] == 1
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == instance_yaml["run_coordinator"]["class"]
    postgres = instance_yaml["run_storage"]["config"]["postgres_db"]
    assert values["postgresql"]["postgresqlScheme"] == postgres["scheme"]
    assert values["postgresql"]["postgresqlUsername"] == postgres["username"]
