"""``transphy3d.sensor.convert.SensorConverter``: the folders it prepares and its per-region
summary, pixel-weighted over frames (the figures meta.json and the report show)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import sampled_spec

from transphy3d.output import channels
from transphy3d.sensor.convert import SensorConverter


def _figures(pixels: int, coverage: float, failed: float) -> dict[str, float]:
    return {"pixels": pixels, "coverage": coverage, "within_2pct": 0.0, "failed": failed}


def test_it_needs_a_sensor(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no sensor"):
        SensorConverter(sampled_spec(0), tmp_path)


@pytest.mark.parametrize("keep_ir", [False, True])
def test_it_prepares_the_sensor_folders(tmp_path: Path, keep_ir: bool) -> None:
    spec = sampled_spec(0, "sensor.enabled=true", f"sensor.keep_ir={str(keep_ir).lower()}")
    SensorConverter(spec, tmp_path / "scene")
    made = sorted(p.name for p in (tmp_path / "scene").iterdir())
    expected = [channels.IR_LEFT, channels.IR_RIGHT] * keep_ir + [channels.RAW_DEPTH]
    assert made == sorted(expected)


def test_the_summary_weighs_each_frame_by_its_pixels(tmp_path: Path) -> None:
    """opaque: 100 px (80 % covered, 30 % failed) and 300 px (40 %, 70 %): 200 of 400 covered, 70 +
    90 = 160 good, so within 2 % on 160 / 200 of the covered ones and 1 - 160 / 400 failed."""
    converter = SensorConverter(sampled_spec(0, "sensor.enabled=true"), tmp_path)
    assert converter.summary() == {name: {"pixels": 0, "coverage": 0.0, "within_2pct": 0.0, "failed": 0.0}
                                   for name in ("opaque", "transparent", "opaque_far")}  # fmt: skip
    converter.figures = [
        {"opaque": _figures(100, 0.8, 0.3), "transparent": _figures(0, 0.0, 0.0), "opaque_far": _figures(50, 0.5, 0.6)},
        {"opaque": _figures(300, 0.4, 0.7), "transparent": _figures(20, 1.0, 0.0), "opaque_far": _figures(0, 0.0, 0.0)},
    ]
    assert converter.summary() == {
        "opaque": {"pixels": 400, "coverage": 0.5, "within_2pct": 0.8, "failed": 0.6},
        "transparent": {"pixels": 20, "coverage": 1.0, "within_2pct": 1.0, "failed": 0.0},
        "opaque_far": {"pixels": 50, "coverage": 0.5, "within_2pct": 0.8, "failed": 0.6},
    }
