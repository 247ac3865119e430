"""Virtual environments holding only what an install of some of transphy3d's extras would hold,
built from this environment's installed files (no download): for the extras and install tests."""

from __future__ import annotations

import importlib.metadata as metadata
import re
import subprocess
import sys
import sysconfig
import tomllib
from collections import defaultdict
from pathlib import Path

from helpers import REPO
from packaging.requirements import Requirement

ALWAYS = {"pip", "setuptools", "wheel"}  # what every virtual environment holds


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(extras: tuple[str, ...]) -> set[str]:
    """Canonical names of the distributions ``transphy3d[extras]`` installs (transphy3d aside)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    todo = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        todo += [Requirement(r) for r in project["optional-dependencies"][extra]]
    seen: set[str] = set()
    while todo:
        requirement = todo.pop()
        name = canonical(requirement.name)
        if name == "transphy3d":
            todo += [Requirement(r) for e in requirement.extras for r in project["optional-dependencies"][e]]
            continue
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.distribution(requirement.name).requires or []
        except metadata.PackageNotFoundError:
            continue  # an optional dependency not installed here
        for text in requires:
            dependency = Requirement(text)
            wanted = {""} | set(requirement.extras)
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": e}) for e in wanted):
                todo.append(dependency)
    return seen | ALWAYS


def environment_with(extras: tuple[str, ...], root: Path) -> Path:
    """A virtual environment at ``root`` with the installed files of the extras' closure; returns
    its python. A top-level entry (package, module, ``.libs``) shared with a distribution outside
    the closure (a namespace package) is linked file by file."""
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(root)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(root), "platbase": str(root)}))
    allowed = closure(extras)
    owners: dict[str, set[str]] = defaultdict(set)
    dists = [d for d in metadata.distributions() if canonical(d.metadata["Name"]) != "transphy3d"]
    for dist in dists:
        for entry in {f.parts[0] for f in dist.files or []}:
            owners[entry].add(canonical(dist.metadata["Name"]))
    for dist in dists:
        if canonical(dist.metadata["Name"]) not in allowed:
            continue
        for file in dist.files or []:
            entry = file.parts[0]
            whole = owners[entry] <= allowed
            target = site / (entry if whole else file)
            if entry.startswith("..") or target.exists() or target.is_symlink() or "__pycache__" in file.parts:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(dist.locate_file(entry if whole else file))
    return root / "bin" / "python"
