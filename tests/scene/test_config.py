"""Scene configs: distributions, inheritance, overrides and one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import CONFIGS

from transphy3d.errors import UserError
from transphy3d.scene.config_loader import load_config, parse_overrides
from transphy3d.scene.distributions import parse_distribution


def write(tmp_path: Path, text: str, name: str = "scene.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", sorted(p.stem for p in CONFIGS.glob("*.yaml")))
def test_shipped_configs_load(name: str) -> None:
    config = load_config(CONFIGS / f"{name}.yaml")
    assert config.name == name


def test_default_follows_the_paper() -> None:
    config = load_config(CONFIGS / "default.yaml")
    assert (config.camera.frames, config.render.width, config.render.height) == (120, 832, 480)
    assert config.render.glossy_bounces >= 12 and config.render.transmission_bounces >= 12


def test_inheritance_replaces_distributions_whole(tmp_path: Path) -> None:
    path = write(tmp_path, f"base: {CONFIGS / 'default.yaml'}\nobjects:\n  count: {{choice: [2, 5]}}\n")
    config = load_config(path)
    assert config.objects.count.kind == "choice" and config.objects.count.args == (2, 5)
    assert config.camera.frames == 120  # inherited


def test_overrides_win_and_parse_yaml() -> None:
    overrides = parse_overrides(["camera.frames=8", "objects.count={randint: [1, 2]}", "render.denoise=false"])
    config = load_config(CONFIGS / "default.yaml", overrides)
    assert config.camera.frames == 8
    assert config.objects.count.args == (1, 2)
    assert config.render.denoise is False


def test_distributions_sample_in_range() -> None:
    rng = np.random.default_rng(0)
    for raw, lo, hi in [
        ({"uniform": [1, 2]}, 1, 2),
        ({"log_uniform": [0.1, 10]}, 0.1, 10),
        ({"normal": [0, 5], "clip": [-1, 1]}, -1, 1),
        ({"randint": [3, 4]}, 3, 4),
    ]:
        d = parse_distribution(raw)
        values = [d.sample(rng) for _ in range(200)]
        assert min(values) >= lo and max(values) <= hi
    randint = parse_distribution({"randint": [3, 4]})
    assert {randint.sample(rng) for _ in range(100)} == {3, 4}  # both ends included
    weighted = parse_distribution({"choice": ["a", "b"], "weights": [0, 1]})
    assert {weighted.sample(rng) for _ in range(50)} == {"b"}


def error_of(path: Path, overrides: dict | None = None) -> str:
    with pytest.raises(UserError) as info:
        load_config(path, overrides)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_unknown_key_names_file_key_and_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "camera:\n  framez: 3\n")
    message = error_of(path)
    assert str(path) in message and "camera.framez" in message
    assert "allowed:" in message and "frames" in message and "focal_length_mm" in message


def test_out_of_range_names_allowed_range(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "camera:\n  elevation_deg: {uniform: [10, 120]}\n"))
    assert "camera.elevation_deg" in message and "allowed: >= -89.0 and <= 89.0" in message
    message = error_of(write(tmp_path, "render:\n  width: -5\n"))
    assert "render.width" in message and "greater than or equal to 8" in message


def test_bad_choice_value_lists_allowed(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "objects:\n  families: {choice: [bottle, teapot]}\n"))
    assert "objects.families" in message and "teapot" in message and "wine_glass" in message


def test_unknown_material_lists_library(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "objects:\n  materials: {choice: [glass, unobtainium]}\n"))
    assert "objects.materials" in message and "unobtainium" in message and "glass/clear_glass" in message


def test_missing_material_library(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "materials_dir: nowhere\n"))
    assert "material library directory not found" in message and "nowhere" in message


def test_yaml_syntax_error_points_at_line(tmp_path: Path) -> None:
    path = write(tmp_path, "camera:\n  frames: 3\n  fps: [24\nrender: {}\n")
    message = error_of(path)
    assert f"{path}:4:" in message or f"{path}:3:" in message
    assert "YAML syntax error" in message


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "camera:\n  frames: 3\n  frames: 4\n"))
    assert "duplicate key 'frames'" in message


def test_override_errors_name_the_override() -> None:
    message = error_of(CONFIGS / "default.yaml", parse_overrides(["camera.framez=8"]))
    assert message.startswith("--set camera.framez") and "allowed:" in message
    with pytest.raises(UserError, match=r"KEY\.PATH=VALUE"):
        parse_overrides(["camera.frames"])


def test_missing_config_file() -> None:
    message = error_of(Path("does/not/exist.yaml"))
    assert "does/not/exist.yaml" in message and "not found" in message


def test_family_param_override_checked(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "objects:\n  family_params: {bottle: {neck_height: [0.5, 0.6]}}\n"))
    assert "bottle.neck_height" in message and "within" in message


def test_config_paths_resolve_against_the_file_that_set_them(tmp_path: Path) -> None:
    """A config elsewhere inheriting a shipped config: the inherited asset manifest resolves
    against the shipped config's folder, a path the child sets against the child's folder, an
    override against the current directory; errors name the file that set the path."""
    from transphy3d.pipeline import sample_scene
    from transphy3d.scene.config_loader import config_file_path

    child = write(tmp_path, f"base: {CONFIGS / 'default.yaml'}\nobjects: {{static_fraction: 1.0}}\n", "child.yaml")
    inherited = config_file_path(load_config(child), "objects.asset_manifest")
    assert inherited == (CONFIGS.parent / "assets_manifest" / "starter.jsonl").resolve() and inherited.is_file()
    assert all(o.source.kind == "static" for o in sample_scene(child, 1).objects)
    own = write(
        tmp_path, f"base: {CONFIGS / 'default.yaml'}\nobjects: {{static_fraction: 1.0, asset_manifest: bank/m.jsonl}}\n"
    )
    with pytest.raises(
        UserError, match=rf"^{own}: objects.asset_manifest: asset manifest {tmp_path}/bank/m.jsonl not found"
    ):
        sample_scene(own, 0)
    with pytest.raises(UserError, match=r"^--set objects.asset_manifest: asset manifest /\S+/other.jsonl not found"):
        sample_scene(own, 0, {"objects.asset_manifest": "other.jsonl"})


def test_configs_by_name(tmp_path: Path) -> None:
    from transphy3d.pipeline import sample_scene

    assert sample_scene("tiny", 2) == sample_scene(CONFIGS / "tiny.yaml", 2)
    # a config of one's own may start from a shipped config by name, wherever it lives
    mine = tmp_path / "mine.yaml"
    mine.write_text("base: tiny\nrender:\n  samples: 4\n")
    spec = sample_scene(mine, 2)
    assert spec.render.samples == 4 and spec.render.width == sample_scene("tiny", 2).render.width
    mine.write_text("base: tinyy\n")
    with pytest.raises(UserError, match=r"mine.yaml: base: base config .*tinyy not found, nor a shipped config"):
        load_config(mine)
    with pytest.raises(UserError, match="nope: not a config file, nor a shipped config; shipped: container, default"):
        load_config("nope")
