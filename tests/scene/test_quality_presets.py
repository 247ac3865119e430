"""render.quality presets: each resolves to its settings, an explicit render key wins, a bad
name is a one-line error, and scene.yaml records the resolved settings (older files load)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import CONFIGS, sampled_spec, save

from transphy3d.errors import UserError
from transphy3d.scene.config import RenderConfig
from transphy3d.scene.config_loader import load_config
from transphy3d.scene.quality import DEFAULT, QUALITY_PRESETS
from transphy3d.scene.recorded import load_spec, parse_spec


@pytest.mark.parametrize("name", sorted(QUALITY_PRESETS))
def test_presets_resolve_to_their_settings(name: str) -> None:
    render = load_config(CONFIGS / "default.yaml", {"render.quality": name}).render
    assert render.quality == name
    assert {key: getattr(render, key) for key in DEFAULT} == QUALITY_PRESETS[name]
    assert set(QUALITY_PRESETS[name]) == set(DEFAULT)


def test_documented_points() -> None:
    """The settings docs/benchmarks.md ("Render quality per second") measured for each preset."""
    draft, default, final = (QUALITY_PRESETS[q] for q in ("draft", "default", "final"))
    unclamped = {"clamp_indirect": 0.0, "clamp_direct": 0.0, "filter_glossy": 0.0, "caustics": True}
    for preset in (draft, default, final):
        assert {key: preset[key] for key in unclamped} == unclamped
    assert (draft["samples"], draft["denoise_prefilter"]) == (8, "FAST")
    assert (default["samples"], default["adaptive_threshold"], default["denoise_prefilter"]) == (32, 0.01, "FAST")
    assert (default["glossy_bounces"], default["transmission_bounces"], default["light_tree"]) == (12, 12, True)
    assert (final["samples"], final["denoise_prefilter"], final["path_guiding"]) == (128, "ACCURATE", True)
    assert (final["max_bounces"], final["glossy_bounces"], final["transmission_bounces"]) == (32, 24, 24)
    assert RenderConfig() == RenderConfig(quality="default")


def test_an_explicit_key_wins_over_the_preset() -> None:
    render = load_config(CONFIGS / "default.yaml", {"render.quality": "draft", "render.samples": 3}).render
    assert render.samples == 3
    assert render.denoise_prefilter == QUALITY_PRESETS["draft"]["denoise_prefilter"]


def test_bad_quality_is_a_one_line_error_naming_the_allowed_values() -> None:
    with pytest.raises(UserError) as info:
        load_config(CONFIGS / "default.yaml", {"render.quality": "best"})
    message = str(info.value)
    assert "\n" not in message
    assert "render.quality" in message and "'draft', 'default' or 'final'" in message


def test_scene_yaml_records_the_resolved_settings(tmp_path: Path) -> None:
    spec = sampled_spec(0, "render.quality=final", config="default")
    raw = yaml.safe_load(save(spec, tmp_path / "scene.yaml").read_text())["render"]
    assert raw["quality"] == "final"
    assert {key: raw[key] for key in DEFAULT} == QUALITY_PRESETS["final"]
    assert load_spec(tmp_path / "scene.yaml") == spec


def test_scene_yaml_recorded_before_presets_loads_with_the_cycles_defaults(tmp_path: Path) -> None:
    spec = sampled_spec(0, config="default")
    raw = yaml.safe_load(save(spec, tmp_path / "scene.yaml").read_text())
    added = ("quality", "adaptive_min_samples", "denoise_input_passes", "denoise_quality", "filter_glossy",
             "clamp_direct", "light_tree", "light_sampling_threshold", "path_guiding")  # fmt: skip
    for key in added:
        del raw["render"][key]
    render = parse_spec(raw, "old.yaml").render
    assert render.quality is None
    assert (render.adaptive_min_samples, render.denoise_input_passes, render.denoise_quality) == (0, "RGB_ALBEDO_NORMAL", "HIGH")  # fmt: skip
    assert (render.filter_glossy, render.clamp_direct, render.light_tree, render.path_guiding) == (
        1.0,
        0.0,
        True,
        False,
    )
    assert render.light_sampling_threshold == 0.01


def test_quality_on_a_recorded_scene_sets_the_preset_keys(tmp_path: Path) -> None:
    """A recorded scene.yaml holds every render key: ``--set render.quality`` there replaces them
    with the preset's, and an explicit key beside it still wins."""
    from transphy3d.pipeline import resolve_scene

    path = save(sampled_spec(0, config="default"), tmp_path / "scene.yaml")
    draft = resolve_scene(path, None, {"render.quality": "draft"})[0].render
    assert draft.quality == "draft"
    assert {key: getattr(draft, key) for key in DEFAULT} == QUALITY_PRESETS["draft"]
    assert resolve_scene(path, None, {"render.quality": "final", "render.samples": 3})[0].render.samples == 3
    with pytest.raises(UserError, match=r"render\.quality.*'draft', 'default' or 'final'"):
        resolve_scene(path, None, {"render.quality": "best"})
