"""tilt/Tiltfile, evaluated by starlark-go with stand-ins for the Tilt built-ins it may use.

Only core built-ins exist here (no `load`, so no `ext://`); every resource it names must be a
workload of the rendered dev overlay, every build context and synced folder must exist, and
the gateway must be forwarded to localhost:8080.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import starlark_go

from tests.deploy.manifests import ROOT, WORKLOADS, render

TILT = ROOT / "tilt"
# Each stand-in records its call; those that return a value in Tilt return a description.
BUILTINS = """
calls = []

def _record(name, args, kwargs):
    calls.append({"builtin": name, "args": list(args), "kwargs": kwargs})

def allow_k8s_contexts(*args, **kwargs):
    _record("allow_k8s_contexts", args, kwargs)

def local(*args, **kwargs):
    _record("local", args, kwargs)
    return ""

def docker_build(*args, **kwargs):
    _record("docker_build", args, kwargs)

def kustomize(*args, **kwargs):
    _record("kustomize", args, kwargs)
    return {"kustomize": args[0]}

def k8s_yaml(*args, **kwargs):
    _record("k8s_yaml", args, kwargs)

def k8s_resource(*args, **kwargs):
    _record("k8s_resource", args, kwargs)

def sync(local_path, remote_path):
    return {"sync": [local_path, remote_path]}

def run(cmd, trigger = []):
    return {"run": cmd}

def fall_back_on(files):
    return {"fall_back_on": files}

def link(url, name = ""):
    return {"link": url}
"""


def evaluate() -> list[dict[str, Any]]:
    """The Tiltfile's calls, in order (Tilt's dialect: top-level for and if are allowed)."""
    starlark_go.configure_starlark(allow_set=True, allow_global_reassign=True)
    interpreter = starlark_go.Starlark()
    interpreter.exec(BUILTINS + "\n" + (TILT / "Tiltfile").read_text())
    calls: list[dict[str, Any]] = interpreter.get("calls")
    return calls


def named(calls: list[dict[str, Any]], builtin: str) -> list[dict[str, Any]]:
    return [call for call in calls if call["builtin"] == builtin]


def from_tilt(relative: str) -> Path:
    """A path written in the Tiltfile (relative to tilt/)."""
    return (TILT / relative).resolve()


def test_every_resource_it_names_is_a_workload_of_the_dev_overlay() -> None:
    workloads = {i["metadata"]["name"] for i in render("dev") if i["kind"] in WORKLOADS}
    calls = evaluate()
    resources = [call["args"][0] for call in named(calls, "k8s_resource")]
    assert resources, "the Tiltfile names no resource"
    assert set(resources) <= workloads, set(resources) - workloads
    for call in named(calls, "k8s_resource"):
        assert set(call["kwargs"].get("resource_deps", [])) <= workloads, call


def test_it_deploys_the_dev_overlay() -> None:
    calls = evaluate()
    (deployed,) = named(calls, "k8s_yaml")
    assert deployed["args"] == [{"kustomize": "../deploy/overlays/dev"}]
    assert from_tilt("../deploy/overlays/dev") == ROOT / "deploy" / "overlays" / "dev"


def test_every_build_context_and_synced_folder_exists() -> None:
    images = {
        container["image"].partition(":")[0]
        for item in render("dev")
        if item["kind"] in WORKLOADS
        for container in item["spec"]["template"]["spec"]["containers"]
    }
    builds = named(evaluate(), "docker_build")
    assert builds, "the Tiltfile builds no image"
    for build in builds:
        assert build["args"][0] in images, f"{build['args'][0]} is not an image of the overlay"
        assert from_tilt(build["kwargs"]["context"]).is_dir()
        assert from_tilt(build["kwargs"]["dockerfile"]).is_file()
        steps = build["kwargs"]["live_update"]
        synced = [step["sync"] for step in steps if "sync" in step]
        assert synced, "no live update"
        for local_path, remote_path in synced:
            assert from_tilt(local_path).is_dir(), local_path
            assert remote_path.startswith("/app/")
        assert any("skiff-reload" in step.get("run", "") for step in steps)


def test_the_gateway_is_forwarded_to_localhost_8080() -> None:
    gateway = [c for c in named(evaluate(), "k8s_resource") if c["args"][0] == "gateway"]
    assert [c["kwargs"]["port_forwards"] for c in gateway] == [["8080:8080"]]


def test_only_core_builtins() -> None:
    text = (TILT / "Tiltfile").read_text()
    assert "load(" not in text
    assert "ext://" not in text
