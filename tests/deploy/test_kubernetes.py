"""deploy/: every overlay renders, validates against Kubernetes' schemas, and keeps the rules.

Offline: `kubectl kustomize` and the `kubernetes-validate` package; no cluster is needed (what
that leaves untested is in docs/deploy.md).
"""

from __future__ import annotations

import json
import re

import kubernetes_validate
import pytest
from skiff_kit.catalog import SERVICES

from tests.deploy.manifests import OVERLAYS, of_kind, pods, render, selects

# The oldest and newest Kubernetes minor versions the manifests are meant for.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
CUSTOM_RESOURCES = {("postgresql.cnpg.io/v1", "Cluster")}
# Needs root, hostPID and the node's Docker socket (base/sandbox-runner.yaml says why).
RUNS_AS_ROOT = {("DaemonSet", "sandbox-runner", "sandbox-runner")}
DEV_RELOAD = "/usr/local/bin/skiff-dev-reload"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_the_whole_stack(overlay: str) -> None:
    names = {(item["kind"], item["metadata"]["name"]) for item in render(overlay)}
    for name in ("gateway", "identity", "billing", "orchestrator", "notification"):
        assert ("Deployment", name) in names
        assert ("HorizontalPodAutoscaler", name) in names
    assert ("DaemonSet", "sandbox-runner") in names
    assert ("StatefulSet", "nats") in names
    assert ("Job", "bootstrap") in names
    postgres = ("Cluster", "skiff-pg") if overlay == "prod" else ("StatefulSet", "postgres")
    assert postgres in names


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_strictly(overlay: str, version: str) -> None:
    problems = []
    for item in render(overlay):
        if (item["apiVersion"], item["kind"]) in CUSTOM_RESOURCES:
            continue
        try:
            kubernetes_validate.validate(item, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{item['kind']}/{item['metadata']['name']}: {error.message}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_limited_and_unprivileged(overlay: str) -> None:
    problems = []
    for pod in pods(overlay):
        context = pod.spec.get("securityContext", {})
        if context.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{pod.label}: no RuntimeDefault seccomp profile")
        for _, container in pod.containers():
            where = f"{pod.label} {container['name']}"
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(resources.get(part, {})):
                    problems.append(f"{where}: no cpu and memory {part}")
            security = container.get("securityContext", {})
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: privilege escalation not off")
            if security.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{where}: capabilities not all dropped")
            if security.get("privileged"):
                problems.append(f"{where}: privileged")
            live_update = overlay == "dev" and container.get("command", [""])[0] == DEV_RELOAD
            if security.get("readOnlyRootFilesystem") is not (not live_update):
                problems.append(f"{where}: root filesystem not read-only")
            non_root = security.get("runAsNonRoot", context.get("runAsNonRoot"))
            if (pod.kind, pod.name, container["name"]) in RUNS_AS_ROOT:
                assert security.get("capabilities", {}).get("add"), where
            elif non_root is not True:
                problems.append(f"{where}: may run as root")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_long_running_containers_have_probes(overlay: str) -> None:
    problems = []
    for pod in pods(overlay):
        if pod.kind == "Job":
            continue  # runs to completion: nothing to probe
        for _, container in pod.containers(init=False):
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in container:
                    problems.append(f"{pod.label} {container['name']}: no {probe}")
            if container["image"].startswith("skiff:"):
                ready = container["readinessProbe"]["httpGet"]["path"]
                alive = container["livenessProbe"]["httpGet"]["path"]
                assert (ready, alive) == ("/ready", "/health"), pod.label
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_pinned(overlay: str) -> None:
    for pod in pods(overlay):
        for _, container in pod.containers():
            image = container["image"]
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            assert tag not in ("", "latest"), f"{pod.label}: image {image} is not pinned"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_replicated_workloads_have_a_disruption_budget(overlay: str) -> None:
    floors = {
        hpa["spec"]["scaleTargetRef"]["name"]: hpa["spec"].get("minReplicas", 1)
        for hpa in of_kind(overlay, "HorizontalPodAutoscaler")
    }
    budgets = [pdb["spec"]["selector"] for pdb in of_kind(overlay, "PodDisruptionBudget")]
    for pod in pods(overlay):
        if max(pod.replicas, floors.get(pod.name, 0)) > 1:
            assert any(selects(s, pod.labels) for s in budgets), f"{pod.label}: no PDB"
    if overlay == "prod":
        assert budgets, "prod runs replicas: it must have disruption budgets"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscalers_target_the_stateless_services(overlay: str) -> None:
    deployments = {item["metadata"]["name"] for item in of_kind(overlay, "Deployment")}
    targets = {
        h["spec"]["scaleTargetRef"]["name"] for h in of_kind(overlay, "HorizontalPodAutoscaler")
    }
    assert targets == deployments


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_select_every_pod(overlay: str) -> None:
    policies = of_kind(overlay, "NetworkPolicy")
    default = [
        p for p in policies if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")
    ]
    assert any(
        set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"} and not p["spec"].get("egress")
        for p in default
    ), "no default-deny NetworkPolicy"
    allowing = [p for p in policies if p["spec"]["podSelector"] != {}]
    for pod in pods(overlay):
        assert any(selects(p["spec"]["podSelector"], pod.labels) for p in allowing), (
            f"{pod.label}: no NetworkPolicy says what it may do"
        )
    cluster = [c for c in of_kind(overlay, "Cluster")]
    for item in cluster:  # CloudNativePG's pods carry the cluster's name as a label
        labels = {"cnpg.io/cluster": item["metadata"]["name"]}
        labels.update(item["spec"].get("inheritedMetadata", {}).get("labels", {}))
        assert any(selects(p["spec"]["podSelector"], labels) for p in allowing)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_takes_ingress_from_outside(overlay: str) -> None:
    for policy in of_kind(overlay, "NetworkPolicy"):
        for rule in policy["spec"].get("ingress", []):
            if not rule.get("from"):
                component = policy["spec"]["podSelector"].get("matchLabels", {})
                assert component == {"app.kubernetes.io/component": "gateway"}, policy


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_accounts_mount_no_token(overlay: str) -> None:
    for account in of_kind(overlay, "ServiceAccount"):
        assert account.get("automountServiceAccountToken") is False, account["metadata"]
    accounts = {a["metadata"]["name"] for a in of_kind(overlay, "ServiceAccount")}
    for pod in pods(overlay):
        assert pod.spec.get("automountServiceAccountToken") is False, pod.label
        assert pod.spec.get("serviceAccountName") in accounts, pod.label


def test_each_service_runs_its_own_command_and_port() -> None:
    workloads = {pod.name: pod for pod in pods("prod")}
    for spec in SERVICES:
        pod = workloads[spec.name.replace("_", "-")]
        container = next(c for kind, c in pod.containers() if kind == "main")
        assert container["command"] == ["python", "-m", spec.package]
        assert container["ports"][0]["containerPort"] == spec.port
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        assert env["SKIFF_PORT"] == str(spec.port)
        if spec.schema:
            init = [c for kind, c in pod.containers() if kind == "init"]
            assert [c["command"] for c in init] == [["python", "-m", spec.package, "migrate"]]


def test_secrets_are_generated_in_dev_only() -> None:
    assert not of_kind("prod", "Secret"), "prod must not carry a Secret"
    secrets = {s["metadata"]["name"]: s for s in of_kind("dev", "Secret")}
    for pod in pods("dev"):
        for _, container in pod.containers():
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] in secrets, f"{pod.label}: no Secret {ref['name']}"
                    assert ref["key"] in secrets[ref["name"]]["data"], f"{pod.label}: {ref}"


def test_prod_runs_a_nats_cluster_with_replicated_streams() -> None:
    config = {c["metadata"]["name"]: c["data"] for c in of_kind("prod", "ConfigMap")}
    skiff = next(data for name, data in config.items() if name.startswith("skiff-config"))
    nats = next(data for name, data in config.items() if name.startswith("nats-config"))
    (statefulset,) = [s for s in of_kind("prod", "StatefulSet") if s["metadata"]["name"] == "nats"]
    assert statefulset["spec"]["replicas"] == 3
    assert skiff["SKIFF_STREAM_REPLICAS"] == "3"
    assert len(re.findall(r"nats://nats-\d\.nats-headless:6222", nats["nats.conf"])) == 3
    assert len(skiff["SKIFF_NATS_URL"].split(",")) == 3
    hooks = statefulset["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]
    assert "ldm=1" in hooks["exec"]["command"][-1]


def test_dev_runs_one_nats_node_and_a_postgres_statefulset() -> None:
    config = {c["metadata"]["name"]: c["data"] for c in of_kind("dev", "ConfigMap")}
    skiff = next(data for name, data in config.items() if name.startswith("skiff-config"))
    sets = {s["metadata"]["name"]: s["spec"]["replicas"] for s in of_kind("dev", "StatefulSet")}
    assert sets == {"nats": 1, "postgres": 1}
    assert skiff["SKIFF_STREAM_REPLICAS"] == "1"
    upstreams = json.loads(skiff["SKIFF_UPSTREAMS"])
    assert set(upstreams) == {spec.name for spec in SERVICES} - {"gateway"}


def test_sandbox_runner_sits_on_sandbox_nodes_only() -> None:
    (runner,) = [
        d for d in of_kind("prod", "DaemonSet") if d["metadata"]["name"] == "sandbox-runner"
    ]
    spec = runner["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"skiff.dev/sandboxes": "true"}
    assert {
        "key": "skiff.dev/sandboxes",
        "operator": "Equal",
        "value": "true",
        "effect": "NoSchedule",
    } in spec["tolerations"]
    sockets = [v for v in spec["volumes"] if v.get("hostPath", {}).get("type") == "Socket"]
    assert [v["hostPath"]["path"] for v in sockets] == ["/var/run/docker.sock"]


def test_prod_bootstrap_uses_the_cloudnativepg_superuser() -> None:
    (job,) = of_kind("prod", "Job")
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    for name, key in (("SKIFF_POSTGRES_USER", "username"), ("SKIFF_POSTGRES_PASSWORD", "password")):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "skiff-pg-superuser", "key": key}
