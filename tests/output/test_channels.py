"""The channel table: the docs hold it, one module names the channels, switches decide which a
scene has, every row's codec round-trips, and the reader, validator and contact sheet follow it."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from transphy3d.output import channels
from transphy3d.output.channels import CHANNELS, Switches, channels_of, expected_files, markdown_table
from transphy3d.output.colormaps import colorize_unit_cube
from transphy3d.preview.contact_sheet import FramePanels, SeedBlock, compose_contact_sheet

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "transphy3d"
CONSTANTS = {"RGB", "DEPTH", "NORMAL", "MASK", "FLOW", "RAW_DEPTH", "IR_LEFT", "IR_RIGHT", "NOCS", "ALBEDO"}


def test_every_channel_has_a_constant_of_its_name() -> None:
    assert {getattr(channels, name) for name in CONSTANTS} == {c.name for c in CHANNELS}


def test_docs_format_holds_the_generated_channel_table() -> None:
    text = (REPO / "docs" / "format.md").read_text()
    begin, end = "<!-- channel table: begin -->\n", "<!-- channel table: end -->"
    assert begin in text and end in text
    assert text[text.index(begin) + len(begin) : text.index(end)] == markdown_table(), (
        "docs/format.md's channel table differs from transphy3d.output.channels.markdown_table(): paste it in"
    )


def _channels_named(path: Path) -> set[str]:
    """Channels a module names: string literals equal to a channel's name (docstrings are
    sentences, never equal) and the table's constants."""
    names = {c.name for c in CHANNELS}
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and node.value in names:
            found.add(node.value)
        elif isinstance(node, ast.Name) and node.id in CONSTANTS:
            found.add(getattr(channels, node.id))
        elif isinstance(node, ast.Attribute) and node.attr in CONSTANTS:
            found.add(getattr(channels, node.attr))
        elif isinstance(node, ast.alias) and node.name in CONSTANTS:
            found.add(getattr(channels, node.name))
    return found


def test_one_module_of_output_preview_report_and_blender_names_three_or_more_channels() -> None:
    spelling = {
        str(path.relative_to(PACKAGE)): sorted(named)
        for part in ("output", "preview", "report", "blender")
        for path in sorted((PACKAGE / part).rglob("*.py"))
        if len(named := _channels_named(path)) >= 3
    }
    assert list(spelling) == ["output/channels.py"], spelling


def test_the_detector_counts_constants_and_literals(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""rgb depth normal"""\nfrom x import DEPTH, MASK\nNAME = "rgb"\n')
    assert _channels_named(module) == {"depth", "mask", "rgb"}


@pytest.mark.parametrize(
    ("switches", "extra"),
    [
        (Switches(), []),
        (Switches(flow=True), ["flow"]),
        (Switches(sensor=True), ["raw_depth"]),
        (Switches(sensor=True, keep_ir=True), ["raw_depth", "ir_left", "ir_right"]),
        (Switches(keep_ir=True), []),  # IR images only with a depth camera
        (Switches(extra=frozenset({"albedo", "nocs"})), ["nocs", "albedo"]),
    ],
)
def test_switches_decide_the_channels(switches: Switches, extra: list[str]) -> None:
    assert [c.name for c in channels_of(switches)] == ["rgb", "depth", "normal", "mask", *extra]


def test_switches_from_a_recorded_scene_yaml() -> None:
    record = {"output": {"flow": True, "channels": ["nocs"]}, "sensor": {"keep_ir": True}}
    assert Switches.from_record(record) == Switches(flow=True, sensor=True, keep_ir=True, extra=frozenset({"nocs"}))
    assert Switches.from_record({}) == Switches()


def test_expected_files_count_each_channel_frames() -> None:
    files = expected_files(Switches(flow=True, extra=frozenset({"nocs"})), 3, [1, 2])
    assert [f for f in files if f.startswith("flow/")] == ["flow/000000.exr", "flow/000001.exr"]
    assert [f for f in files if f.startswith("nocs/")] == [f"nocs/00000{i}.exr" for i in range(3)]
    assert "meshes/0002.ply" in files and len(files) == 4 + 5 * 3 + 2 + 2


@pytest.mark.parametrize("row", CHANNELS, ids=lambda c: c.name)
def test_every_codec_round_trips(row: channels.Channel, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    shape = row.shape(6, 8)
    if row.dtype == "uint8":
        array = rng.integers(0, 256, shape).astype(np.uint8)
    elif row.dtype == "uint16":
        array = rng.integers(0, 65536, shape).astype(np.uint16)
    else:
        array = rng.uniform(0.0, 1.0, shape).astype(np.float32)
    path = tmp_path / f"a{row.suffix}"
    row.write(path, array, "zip")
    back = row.read(path)
    assert back.shape == shape and back.dtype == np.dtype(row.dtype)
    np.testing.assert_allclose(back, array, atol=5e-4)  # half floats: 2^-11 relative below 1


def test_contact_sheet_draws_nocs_and_albedo_panels() -> None:
    rng = np.random.default_rng(3)
    h, w = 12, 16
    depth = rng.uniform(0.5, 2.0, (h, w))
    normal = np.tile([0.0, 0.0, -1.0], (h, w, 1))
    mask = np.zeros((h, w), np.uint16)
    nocs = rng.uniform(0.0, 1.0, (h, w, 3))
    albedo = rng.uniform(0.0, 1.0, (h, w, 3))
    arrays = {"rgb": np.zeros((h, w, 3), np.uint8), "depth": depth, "normal": normal, "mask": mask,
              "nocs": nocs, "albedo": albedo}  # fmt: skip
    sheet, layout = compose_contact_sheet([SeedBlock(0, "scene", [FramePanels(0, arrays)], {})], "t")
    assert layout["columns"] == ["rgb", "depth", "normal", "mask", "nocs", "albedo"]
    scale = layout["panel_scale"]
    x, y, pw, ph = layout["seeds"][0]["rows"][0]["boxes"]["nocs"]
    np.testing.assert_array_equal(np.asarray(sheet)[y : y + ph : scale, x : x + pw : scale], colorize_unit_cube(nocs))
    x, y, pw, ph = layout["seeds"][0]["rows"][0]["boxes"]["albedo"]
    panel = np.asarray(sheet)[y : y + ph : scale, x : x + pw : scale].astype(float) / 255
    srgb_half = 1.055 * 0.5 ** (1 / 2.4) - 0.055  # linear 0.5 shown as sRGB
    assert np.abs(panel[albedo > 0.5].mean() - panel[albedo <= 0.5].mean()) > 0.2
    assert abs(np.interp(0.5, np.sort(albedo.ravel()), np.sort(panel.ravel())) - srgb_half) < 0.05
