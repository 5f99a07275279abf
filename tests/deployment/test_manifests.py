"""docker-compose.yaml and deployment/: they parse, reference files that exist, and name only
settings the platform knows (no Docker engine or Kubernetes runs here, so this is what can be
checked: the YAML, the references, and the configuration variables)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from emg_django.config import EMGConfig

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = ROOT / "deployment"
EMG_VARIABLE = re.compile(r"\bEMG_[A-Z0-9_]+\b")
#: Variables read by Dagster's instance config (dagster.yaml), not by EMGConfig.
DAGSTER_VARIABLES = {
    "DAGSTER_PG_USERNAME",
    "DAGSTER_PG_PASSWORD",
    "DAGSTER_PG_HOST",
    "DAGSTER_PG_PORT",
    "DAGSTER_PG_DB",
    "DAGSTER_COMPUTE_LOGS_DIR",
}


def _documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _known_variable(name: str) -> bool:
    """Whether ``EMG_A__B__C`` names a field of EMGConfig (nested with ``__``)."""
    model: type[BaseModel] = EMGConfig
    parts = name.removeprefix("EMG_").lower().split("__")
    for index, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        if index < len(parts) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def test_the_variable_checker_can_fail() -> None:
    assert _known_variable("EMG_SLURM__SSH_KNOWN_HOSTS_PATH")
    assert _known_variable("EMG_PIPELINES__AMPLICON__CHUNK_SIZE")
    assert not _known_variable("EMG_SLURM__SSH_HOSTNAME")
    assert not _known_variable("EMG_DATABASE__URL__X")


@pytest.mark.parametrize(
    "path",
    [
        ROOT / "docker-compose.yaml",
        *sorted(DEPLOYMENT.rglob("*.yaml")),
        DEPLOYMENT / "compose.env.example",
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_emg_variable_is_a_setting(path: Path) -> None:
    unknown = sorted(
        {name for name in EMG_VARIABLE.findall(path.read_text()) if not _known_variable(name)}
    )
    assert not unknown, f"{path.name} names settings EMGConfig does not have: {unknown}"


def test_compose_services_and_references() -> None:
    [compose] = _documents(ROOT / "docker-compose.yaml")
    services = compose["services"]
    assert {
        "postgres",
        "api",
        "dagster-code",
        "dagster-webserver",
        "dagster-daemon",
        "slurm",
    } <= set(services)
    for name, service in services.items():
        build = service.get("build")
        if build:
            context = ROOT / (build["context"] if isinstance(build, dict) else build)
            dockerfile = (
                build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
            )
            assert (context / dockerfile).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./") and not source.endswith(".state"):
                assert (ROOT / source).exists(), f"{name}: {source}"
            elif not source.startswith(("./", "/")):
                assert source in compose.get("volumes", {}), f"{name}: named volume {source}"
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    env = services["dagster-code"]["environment"]
    assert set(DAGSTER_VARIABLES) <= set(env)
    assert env["EMG_SLURM__TRANSPORT"] == "ssh" and env["EMG_SLURM__SSH_KNOWN_HOSTS_PATH"]
    # The API and Dagster run the same image; the API serves on loopback only.
    assert services["api"]["ports"] == ["127.0.0.1:8000:8000"]
    # Secrets are never written in the file: only required env references.
    for secret in ("POSTGRES_PASSWORD", "EMG_DJANGO__SECRET_KEY", "EMG_API__JWT_SECRET"):
        assert f"${{{secret}:?" in (ROOT / "docker-compose.yaml").read_text()


def test_dockerfile_copies_what_exists() -> None:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            *sources, _destination = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), line


def test_kubernetes_manifests() -> None:
    documents = [
        doc for path in sorted((DEPLOYMENT / "k8s").glob("*.yaml")) for doc in _documents(path)
    ]
    kinds = {doc["kind"] for doc in documents}
    assert {"ConfigMap", "Deployment", "Service", "Ingress", "Job"} <= kinds
    for doc in documents:
        assert doc["apiVersion"] and doc["metadata"]["name"], doc
    config_maps = {doc["metadata"]["name"] for doc in documents if doc["kind"] == "ConfigMap"}
    [deployment] = [doc for doc in documents if doc["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert (
        deployment["spec"]["selector"]["matchLabels"].items()
        <= deployment["spec"]["template"]["metadata"]["labels"].items()
    )
    refs = container["envFrom"]
    assert {ref["configMapRef"]["name"] for ref in refs if "configMapRef" in ref} <= config_maps
    assert any("secretRef" in ref for ref in refs), "secrets come by reference"
    [service] = [doc for doc in documents if doc["kind"] == "Service"]
    assert (
        service["spec"]["selector"].items()
        <= deployment["spec"]["template"]["metadata"]["labels"].items()
    )
    [ingress] = [doc for doc in documents if doc["kind"] == "Ingress"]
    backends = {
        p["backend"]["service"]["name"]
        for r in ingress["spec"]["rules"]
        for p in r["http"]["paths"]
    }
    assert backends == {service["metadata"]["name"]}
    for doc in documents:
        assert "password" not in yaml.safe_dump(doc.get("data", {})).lower()


def test_dagster_helm_values() -> None:
    [values] = _documents(DEPLOYMENT / "helm" / "dagster-values.yaml")
    [code] = values["dagster-user-deployments"]["deployments"]
    assert code["dagsterApiGrpcArgs"] == ["-m", "emg_assets.definitions"]
    mounts = {m["name"]: m["mountPath"] for m in code["volumeMounts"]}
    volumes = {v["name"]: v for v in code["volumes"]}
    assert volumes["slurm-ssh"]["secret"]["secretName"] == "emg-slurm-ssh"
    assert mounts["slurm-ssh"] == "/etc/emg/ssh"
    [config_map] = _documents(DEPLOYMENT / "k8s" / "configmap.yaml")
    for key in ("EMG_SLURM__SSH_KEY_PATH", "EMG_SLURM__SSH_KNOWN_HOSTS_PATH"):
        assert config_map["data"][key].startswith(mounts["slurm-ssh"])
    # The dirs the jobs share with the cluster are on the mounted shared filesystem.
    for key in ("EMG_SLURM__WORK_DIR", "EMG_RESULTS__WORK_DIR", "EMG_RESULTS__PUBLIC_DIR",
                "EMG_RESULTS__PRIVATE_DIR"):  # fmt: skip
        assert config_map["data"][key].startswith(mounts["hpc-shared"] + "/"), key
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert {m["mountPath"] for m in launcher["volumeMounts"]} == set(mounts.values())
    assert values["postgresql"]["enabled"] is False
    assert values["dagsterDaemon"]["runMonitoring"]["enabled"] is True
    pins = (ROOT / "pyproject.toml").read_text()
    assert f'"dagster=={values["dagsterWebserver"]["image"]["tag"]}"' in pins


def test_instance_configs_parse() -> None:
    import dagster as dg
    from dagster._core.instance.config import dagster_instance_config

    for path in (ROOT / "dagster.yaml", DEPLOYMENT / "dagster" / "dagster.embedded.yaml"):
        assert _documents(path), path
    embedded = DEPLOYMENT / "dagster" / "dagster.embedded.yaml"
    config, _ = dagster_instance_config(str(embedded.parent), config_filename=embedded.name)
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 1
    assert dg.DagsterInstance  # the production file is loaded for real in test_dagster_instance.py


def test_compose_webserver_and_daemon_load_the_code_service() -> None:
    """Run monitoring asks the code server for its runs: webserver and daemon must load the
    `dagster-code` gRPC server (not spawn their own), the one the image's workspace file names."""
    [compose] = _documents(ROOT / "docker-compose.yaml")
    services = compose["services"]
    code = services["dagster-code"]["command"]
    assert code[:3] == ["dagster", "api", "grpc"]  # `code-server start` cannot list its runs
    port = int(code[code.index("-p") + 1])
    for name in ("dagster-webserver", "dagster-daemon"):
        command = services[name]["command"]
        path = command[command.index("-w") + 1]
        assert path.startswith("/app/"), path
        [workspace] = _documents(ROOT / path.removeprefix("/app/"))
        [location] = workspace["load_from"]
        assert location["grpc_server"] == {
            "host": "dagster-code",
            "port": port,
            "location_name": "emg_assets",
        }
        assert services[name]["depends_on"]["dagster-code"]["condition"] == "service_healthy"
    copied = (ROOT / "Dockerfile").read_text()
    assert "COPY deployment/dagster/workspace.compose.yaml" in copied
    [instance] = _documents(ROOT / "dagster.yaml")
    assert instance["run_launcher"]["class"] == "HealthCheckedRunLauncher"
