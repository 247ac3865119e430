"""The public API and the tutorial example: ``examples/render_one.py`` runs top to bottom from
another directory and its depth agrees with the ray-casting oracle."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from helpers import REPO

pytestmark = pytest.mark.blender


def test_render_one_example_runs_and_its_depth_matches_the_oracle(tmp_path) -> None:
    out = tmp_path / "scene"
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "render_one.py"), str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    share = float(re.search(r"depth within 1 mm of the oracle on ([\d.]+)%", result.stdout).group(1))
    assert share > 99.0 and (out / "camera.json").is_file()
    assert len(re.findall(r"^object \d+:", result.stdout, re.M)) >= 2


def test_the_public_api_is_lazy_and_complete() -> None:
    code = (
        "import sys, transphy3d; heavy = [m for m in ('numpy', 'pydantic') if m in sys.modules]; "
        "names = [n for n in transphy3d.__all__ if getattr(transphy3d, n, None) is None]; print(heavy, names)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] []"
