"""``transphy3d datasets inspect``: the figures of each source and a contact sheet per source."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from layouts import H, W, write_clearpose, write_dreds, write_hiss
from PIL import Image

from transphy3d.cli import main
from transphy3d.datasets.inspection import SHEET_HEIGHT


def test_inspect_prints_figures_and_writes_contact_sheets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = write_dreds(tmp_path)
    write_hiss(tmp_path)
    write_clearpose(tmp_path, scenes=("set2/scene1",))
    out = tmp_path / "inspect"
    specs = [f"dreds:{tmp_path / 'DREDS-CatKnown'}", str(tmp_path / "HISS"), str(tmp_path / "clearpose")]
    argv = ["datasets", "inspect", *specs, "--out", str(out), "--sheet", "2", "--index-cache", str(tmp_path / "c")]
    assert main(argv) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3 and "dreds, 1 sequences, 2 frames (2 read), 16x8" in printed[0]
    report = json.loads((out / "inspect.json").read_text())
    dreds, hiss, clearpose = report
    assert dreds["invalid_share"] == pytest.approx(3 / (H * W))  # three pixels of each frame have no surface
    assert dreds["transparent_share"] == pytest.approx(12 / (H * W))
    lo = min(float(e["depth"][e["depth"] > 0].min()) for e in expected.values())
    assert dreds["depth_min_m"] == pytest.approx(lo)
    assert dreds["has"] == {"raw_depth": True, "normal": True, "transparent": True, "K": True}
    assert hiss["transparent_share"] is None and hiss["skipped"] == 1 and hiss["frames"] == 2
    assert clearpose["sequences"] == 1 and clearpose["frames"] == 3 and clearpose["frames_read"] == 3
    sheet = np.asarray(Image.open(out / "0_dreds.png"))
    assert sheet.shape[0] == 2 * SHEET_HEIGHT  # two rows: rgb | depth | mask
    assert sheet.shape[1] == 3 * W * SHEET_HEIGHT // H
    mask_panel = sheet[:SHEET_HEIGHT, 2 * W * SHEET_HEIGHT // H :]
    assert (mask_panel == 255).all(axis=-1).mean() == pytest.approx(12 / (H * W))
