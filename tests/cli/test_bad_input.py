"""Bad configs and recorded scenes through ``transphy3d sample`` (in-process, no Blender): every
case a one-line error naming the file and key, exit code 2; and a fuzz test that feeds randomly
mutated configs and recorded scenes and accepts only exit code 0 or 2, never a traceback."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from helpers import CONFIGS, one_line_error, sampled_spec, save
from helpers import run_in_process as cli

TINY = CONFIGS / "tiny.yaml"


def _write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _recorded(tmp_path: Path) -> dict:
    spec = sampled_spec(3, config="mixed")
    return yaml.safe_load(save(spec, tmp_path / "recorded.yaml").read_text())


def test_empty_config_is_an_error_not_a_default_scene(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    one_line_error(cli(capsys, "sample", str(empty)), str(empty), "the config is empty")
    empty.write_text("# only a comment\n")
    one_line_error(cli(capsys, "sample", str(empty)), str(empty), "the config is empty")


def test_base_cannot_be_overridden(capsys: pytest.CaptureFixture) -> None:
    one_line_error(cli(capsys, "sample", str(TINY), "--set", "base=mixed"), "--set base", "write `base:`")


@pytest.mark.parametrize(
    ("section", "values", "needles"),
    [
        ("camera", {"clip_near": 5.0, "clip_far": 1.0}, ["camera", "clip_near 5.0 must be below clip_far 1.0"]),
        ("physics", {"min_seconds": 4.0, "max_seconds": 2.0}, ["physics", "min_seconds 4.0 is above max_seconds"]),
    ],
)
def test_contradicting_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture, section: str, values: dict, needles: list[str]
) -> None:
    config = _write(tmp_path / "bad.yaml", {"base": str(TINY), section: values})
    one_line_error(cli(capsys, "sample", str(config)), str(config), *needles)


def _family_object(raw: dict) -> dict:
    return next(o for o in raw["objects"] if o["source"].get("kind") == "procedural")


@pytest.mark.parametrize(
    ("damage", "needles"),
    [
        (lambda r: _family_object(r)["source"].update(family="teapot"), ["unknown family 'teapot'", "allowed:"]),
        (lambda r: _family_object(r)["source"]["params"].popitem(), ["parameters must be exactly", "missing"]),
        (
            lambda r: _family_object(r)["source"]["params"].update(
                {k: 1e6 for k in _family_object(r)["source"]["params"]}
            ),
            ["outside its limits"],
        ),
        (lambda r: r["render"].update(samples=0), ["render.samples", "greater than or equal to 1"]),
        (lambda r: r["render"].update(width=float("nan")), ["render.width"]),
        (lambda r: r["camera"].update(clip_near=10.0, clip_far=1.0), ["camera", "must be below clip_far"]),
        (lambda r: r["physics"].update(max_attempts=0), ["physics.max_attempts"]),
        (lambda r: r["objects"][0]["material"]["params"].update(roughness=7.0), ["roughness", "less than or equal"]),
        (lambda r: r["objects"][0]["material"]["params"].update(ior=float("inf")), ["ior", "finite"]),
        (lambda r: r.update(spec_version=99), ["spec_version", "allowed: 1"]),
    ],
    ids=[
        "family",
        "missing-param",
        "param-range",
        "samples",
        "nan",
        "clip",
        "physics",
        "material",
        "inf",
        "version",
    ],
)
def test_recorded_scene_checked_like_a_config(tmp_path: Path, capsys: pytest.CaptureFixture, damage, needles) -> None:
    raw = _recorded(tmp_path)
    damage(raw)
    path = _write(tmp_path / "scene.yaml", raw)
    one_line_error(cli(capsys, "sample", str(path)), str(path), *needles)


def test_sample_out(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "folder").mkdir()
    one_line_error(
        cli(capsys, "sample", str(TINY), "--out", str(tmp_path / "folder")), "--out", "is a directory", code=3
    )
    (tmp_path / "file").write_text("kept")
    one_line_error(cli(capsys, "sample", str(TINY), "--out", str(tmp_path / "file" / "s.yaml")), "--out", code=3)
    assert (tmp_path / "file").read_text() == "kept"
    out = tmp_path / "new" / "deeper" / "s.yaml"
    assert cli(capsys, "sample", str(TINY), "--seed", "2", "--out", str(out)).returncode == 0
    assert out.read_text() == cli(capsys, "sample", str(TINY), "--seed", "2").stdout
    # a recorded scene keeps its own seed: sample reproduces it
    assert cli(capsys, "sample", str(out)).stdout == out.read_text()


# --- fuzzing -----------------------------------------------------------------------------------

ODD_VALUES: list[Any] = [
    None, 0, -1, 1, 2**63, -1e300, 1e300, 1e-300, math.nan, math.inf, -math.inf, True, "", "x", "-1", "1e9",
    [], [1], [1, 2, 3], {}, {"uniform": [2, 1]}, {"choice": []}, {"normal": [0, -1]}, {"x": 1},
]  # fmt: skip


def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path into ``node`` (mappings by key, lists by index), the root excluded."""
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in items:
        found.append((*path, key))
        found.extend(_leaves(child, (*path, key)))
    return found


def _mutate(document: dict, rng: np.random.Generator) -> dict:
    """``document`` with one to three random damages: a value replaced by an odd one, a key
    deleted, an unknown key added, a number scaled or negated, a list emptied."""
    document = copy.deepcopy(document)
    for _ in range(int(rng.integers(1, 4))):
        paths = _leaves(document)
        path = paths[int(rng.integers(len(paths)))]
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        key, value = path[-1], parent[path[-1]]
        action = int(rng.integers(5))
        if action == 0:
            parent[key] = copy.deepcopy(ODD_VALUES[int(rng.integers(len(ODD_VALUES)))])
        elif action == 1 and isinstance(parent, dict):
            del parent[key]
        elif action == 2 and isinstance(parent, dict):
            parent[f"unknown_{int(rng.integers(100))}"] = 1
        elif action == 3 and isinstance(value, int | float) and not isinstance(value, bool):
            parent[key] = value * float(rng.choice([-1.0, 0.0, 1e-6, 1e6]))
        elif isinstance(value, list | dict):
            parent[key] = type(value)()
        else:
            parent[key] = str(value)
    return document


def _fuzz(tmp_path: Path, capsys: pytest.CaptureFixture, original: dict, name: str, count: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    intact = _write(tmp_path / f"{name}_intact.yaml", original)
    assert cli(capsys, "sample", str(intact)).returncode == 0, "the unmutated document must sample"
    codes: dict[int, int] = {}
    for i in range(count):
        mutated = _mutate(original, rng)
        path = tmp_path / f"{name}_{i:03d}.yaml"
        _write(path, mutated)
        try:
            result = cli(capsys, "sample", str(path))
        except Exception as error:  # a traceback for the user: show the file that caused it
            pytest.fail(f"{path} raised {type(error).__name__}: {error}\n{path.read_text()}")
        assert result.returncode in (0, 2), (path.read_text(), result.stderr)
        if result.returncode == 2:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("transphy3d sample: error: "), result.stderr
        codes[result.returncode] = codes.get(result.returncode, 0) + 1
    return codes


def test_fuzzed_configs_exit_0_or_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    original = yaml.safe_load((CONFIGS / "mixed.yaml").read_text())
    original["base"] = str(CONFIGS / original["base"])
    manifest = original["objects"]["asset_manifest"]
    original["objects"]["asset_manifest"] = str((CONFIGS / manifest).resolve())
    codes = _fuzz(tmp_path, capsys, original, "config", 150, seed=11)
    assert codes.get(0, 0) > 10 and codes.get(2, 0) > 50, codes  # both outcomes are explored


def test_fuzzed_recorded_scenes_exit_0_or_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    codes = _fuzz(tmp_path, capsys, _recorded(tmp_path), "scene", 150, seed=12)
    assert codes.get(0, 0) > 10 and codes.get(2, 0) > 50, codes
