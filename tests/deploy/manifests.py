"""The rendered Kubernetes overlays, read once per test run (`kubectl kustomize`)."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
Object = dict[str, Any]


@functools.cache
def render(overlay: str) -> tuple[Object, ...]:
    """Every object `kubectl kustomize deploy/overlays/<overlay>` renders."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail(
            "kubectl is not installed, and these tests render the overlays with "
            "`kubectl kustomize`: install kubectl (e.g. `apt-get install kubectl` from the "
            "Kubernetes apt repository, or a release binary) and run them again"
        )
    done = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"kubectl kustomize {overlay} failed:\n{done.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


@dataclass(frozen=True)
class Pod:
    """The pod template of one workload."""

    overlay: str
    kind: str
    name: str
    spec: Object
    labels: dict[str, str]
    replicas: int

    @property
    def label(self) -> str:
        return f"{self.overlay}: {self.kind}/{self.name}"

    def containers(self, *, init: bool = True) -> Iterator[tuple[str, Object]]:
        """(`init`/`main`, container) for each container of the pod."""
        if init:
            for container in self.spec.get("initContainers", []):
                yield "init", container
        for container in self.spec["containers"]:
            yield "main", container


def pods(overlay: str) -> list[Pod]:
    """Every workload's pod template in an overlay."""
    found = []
    for item in render(overlay):
        if item["kind"] in WORKLOADS:
            template = item["spec"]["template"]
            found.append(
                Pod(
                    overlay=overlay,
                    kind=item["kind"],
                    name=item["metadata"]["name"],
                    spec=template["spec"],
                    labels=template["metadata"].get("labels", {}),
                    replicas=item["spec"].get("replicas", 1),
                )
            )
    return found


def of_kind(overlay: str, kind: str) -> list[Object]:
    return [item for item in render(overlay) if item["kind"] == kind]


def selects(selector: Object, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects `labels`."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True
