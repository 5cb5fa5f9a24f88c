"""The deployment files an operator uses: compose.yaml, deploy/k8s/ and the HAProxy
configuration, checked for validity and for the same topology as `make run-scaled`.

- compose.yaml: ``docker compose config`` (or ``docker-compose config``, which needs no
  Docker engine; `make scale-tools` installs it where the machine allows).
- deploy/k8s/: ``kubectl kustomize`` builds it; ``kubectl apply --dry-run=client`` needs a
  cluster to ask for its API groups, so instead every object is read into the Kubernetes
  API's own models (the ``kubernetes`` client) and any field they do not know fails.
- deploy/haproxy.cfg: ``haproxy -c``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ENDPOINT_VARIABLES = {
    name
    for line in (ROOT / "endpoints.production.yml").read_text().splitlines()
    if not line.lstrip().startswith("#")
    for name in re.findall(r"\$\{([A-Z_]+)\}", line)
}


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (make scale-tools)")
    check = subprocess.run(
        [*command, "-f", "compose.yaml", "config", "-q"], cwd=ROOT, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    rendered = subprocess.run(
        [*command, "-f", "compose.yaml", "config"], cwd=ROOT, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return yaml.safe_load(rendered.stdout)


def test_compose_has_the_scaled_topology(compose):
    services = compose["services"]
    assert set(services) == {
        "postgres", "redis", "migrate", "actions", "rasa", "receiver", "outbox", "staff",
        "haproxy",
    }  # fmt: skip
    assert services["rasa"]["deploy"]["replicas"] == 2
    assert services["actions"]["deploy"]["replicas"] == 2
    assert services["receiver"]["deploy"]["replicas"] == 2
    rasa = services["rasa"]
    assert "endpoints.production.yml" in rasa["command"]
    # The receivers take SMS, WhatsApp and Telegram; the Rasa servers run their turns.
    assert rasa["command"][rasa["command"].index("--credentials") + 1] == (
        "credentials.production.yml"
    )
    receiver = services["receiver"]
    assert receiver["command"] == ["python", "-m", "channels.receiver", "--port", "5006"]
    assert receiver["environment"]["RASA_TURN_URL"] == "http://haproxy:5007/webhooks/turn/webhook"
    assert "TURN_TOKEN" in rasa["environment"] and "TURN_TOKEN" in receiver["environment"]
    # Acknowledged once stored; every reply by the outbox (see test_channel_pipeline).
    assert receiver["environment"]["SMS_REPLY_WITHIN"] == "0"
    assert ENDPOINT_VARIABLES <= set(rasa["environment"])
    assert rasa["environment"]["ACTION_SERVER_URL"] == "http://haproxy:5056/webhook"
    assert services["outbox"]["command"] == ["python", "-m", "bot", "outbox", "run"]
    assert "5080" in str(services["staff"]["ports"])
    assert rasa["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    mounts = [  # long form (docker compose v2) or "source:target:mode" (docker-compose v1)
        (v["source"], v["target"]) if isinstance(v, dict) else tuple(v.split(":")[:2])
        for v in services["haproxy"]["volumes"]
    ]
    assert (str(ROOT / "deploy" / "haproxy.cfg"), "/usr/local/etc/haproxy/haproxy.cfg") in mounts


def test_the_compose_haproxy_configuration_is_valid():
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        pytest.skip("HAProxy is not installed (make load-balancer)")
    check = subprocess.run(
        [binary, "-c", "-f", str(ROOT / "deploy" / "haproxy.cfg")], capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    config = (ROOT / "deploy" / "haproxy.cfg").read_text()
    assert "server-template rasa 4 rasa:5005" in config
    assert "server-template actions 4 actions:5055" in config
    assert "server-template receiver 4 receiver:5006" in config
    assert (
        "acl channel_webhook path_beg /webhooks/sms/ /webhooks/whatsapp/ /webhooks/telegram/"
        in config
    )
    assert "http-request deny deny_status 404 if { path_beg /webhooks/turn/ }" in config
    assert "frontend turns\n    bind :5007\n    default_backend rasa_servers" in config


# -- Kubernetes ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl:
        built = subprocess.run(
            [kubectl, "kustomize", str(ROOT / "deploy" / "k8s")], capture_output=True,
            text=True, check=False,
        )  # fmt: skip
        assert built.returncode == 0, built.stderr
        return [d for d in yaml.safe_load_all(built.stdout) if d]
    kustomization = yaml.safe_load((ROOT / "deploy/k8s/kustomization.yaml").read_text())
    return [
        doc
        for name in kustomization["resources"]
        for doc in yaml.safe_load_all((ROOT / "deploy/k8s" / name).read_text())
        if doc
    ]


def _unknown_fields(original: Any, understood: Any, path: str = "") -> list[str]:
    """Keys in ``original`` that the API model dropped (unknown fields), with their path."""
    if isinstance(original, dict):
        if not isinstance(understood, dict):
            return [path or "/"]
        found = []
        for key, value in original.items():
            if key not in understood:
                found.append(f"{path}.{key}")
            else:
                found += _unknown_fields(value, understood[key], f"{path}.{key}")
        return found
    if isinstance(original, list):
        if not isinstance(understood, list) or len(understood) != len(original):
            return [path]
        return [
            p for n, (a, b) in enumerate(zip(original, understood, strict=True))
            for p in _unknown_fields(a, b, f"{path}[{n}]")
        ]  # fmt: skip
    return []


def test_every_manifest_is_a_valid_kubernetes_object(manifests):
    from kubernetes.client import ApiClient

    client = ApiClient()
    for doc in manifests:
        model = f"V1{doc['kind']}"
        assert doc["apiVersion"].endswith("v1"), doc["apiVersion"]
        obj = client._ApiClient__deserialize(doc, model)  # raises on a missing required field
        understood = client.sanitize_for_serialization(obj)
        assert _unknown_fields(doc, understood) == [], f"{doc['kind']} {doc['metadata']}"


def _by(manifests, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in manifests if d["kind"] == kind}


def test_kubernetes_has_the_scaled_topology(manifests):
    deployments = _by(manifests, "Deployment")
    assert {n: d["spec"]["replicas"] for n, d in deployments.items()} == {
        "rasa": 2, "actions": 2, "receiver": 2, "outbox": 1, "staff": 1, "redis": 1,
    }  # fmt: skip
    assert set(_by(manifests, "StatefulSet")) == {"postgres"}
    assert set(_by(manifests, "Job")) == {"migrate"}
    services = _by(manifests, "Service")
    for name, deployment in {**deployments, **_by(manifests, "StatefulSet")}.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        if name in services:
            assert services[name]["spec"]["selector"].items() <= labels.items()
            ports = {
                p["containerPort"]
                for c in deployment["spec"]["template"]["spec"]["containers"]
                for p in c.get("ports", [])
            }
            assert {p["targetPort"] for p in services[name]["spec"]["ports"]} <= ports
    rasa = deployments["rasa"]["spec"]["template"]["spec"]["containers"][0]
    assert "endpoints.production.yml" in rasa["args"]
    assert rasa["args"][rasa["args"].index("--credentials") + 1] == "credentials.production.yml"
    receiver = deployments["receiver"]["spec"]["template"]["spec"]["containers"][0]
    assert receiver["command"] == ["python", "-m", "channels.receiver", "--port", "5006"]
    config = _by(manifests, "ConfigMap")["send-config"]["data"]
    secret = _by(manifests, "Secret")["send-secrets"]["stringData"]
    assert ENDPOINT_VARIABLES <= set(config) | set(secret)
    assert config["ACTION_SERVER_URL"] == "http://actions:5055/webhook"
    assert config["RASA_TURN_URL"] == "http://rasa:5005/webhooks/turn/webhook"
    assert config["SMS_REPLY_WITHIN"] == "0"
    assert "TURN_TOKEN" in secret
    ingress = _by(manifests, "Ingress")["send-assistant"]["spec"]["rules"]
    routes = {
        p["path"]: p["backend"]["service"]["name"] for r in ingress for p in r["http"]["paths"]
    }
    assert {r["http"]["paths"][0]["backend"]["service"]["name"] for r in ingress} == {
        "rasa", "staff",
    }  # fmt: skip
    assert {path: routes[path] for path in routes if path.startswith("/webhooks/")} == {
        "/webhooks/sms/": "receiver", "/webhooks/whatsapp/": "receiver",
        "/webhooks/telegram/": "receiver", "/webhooks/turn/": "receiver",
    }  # fmt: skip
    assert all(d["metadata"].get("namespace") == "send-assistant" for d in manifests[1:])


def test_the_dockerfile_runs_the_production_endpoints():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '"--endpoints", "endpoints.production.yml"' in dockerfile
    assert "rasa train" in dockerfile
    assert "pip install -c constraints.txt ." in dockerfile
