"""The contact sheet: one block per seed, side by side; in a block one row per previewed frame
with a panel per shown channel (the channel table's rows with a ``show``, in table order: RGB,
depth, normal, instance mask, and the raw depth, NOCS or albedo when the scene has them; every
depth-like panel on one colour scale), under a header (seed, scene) and above a legend (depth
colour bar with its range, instance colours, warnings). Also returns the layout (panel
boxes, depth ranges, instance colours) so tools and tests can read the panels back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from transphy3d.output.channels import CHANNELS, Show
from transphy3d.output.colormaps import DEPTH_LUT, depth_range, instance_color, show_channel, unit_to_depth

BACKGROUND = (24, 24, 24)
TEXT = (230, 230, 230)
DIM = (150, 150, 150)
WARN = (255, 170, 60)
MARGIN, GAP, LABEL_WIDTH, FONT_SIZE = 12, 4, 64, 13
MIN_PANEL_WIDTH = 160  # small renders are enlarged (nearest neighbour) to at least this width


@dataclass
class FramePanels:
    """The rendered arrays of one previewed frame, by channel name (any channel the table shows)."""

    frame: int
    arrays: dict[str, np.ndarray]

    @property
    def shape(self) -> tuple[int, int]:
        return next(iter(self.arrays.values())).shape[:2]


@dataclass
class SeedBlock:
    """One sampled scene of the sheet."""

    seed: int
    caption: str
    frames: list[FramePanels]
    instances: dict[int, str]  # instance id -> legend label
    warnings: list[str] = field(default_factory=list)


def panel_scale(width: int) -> int:
    """Integer enlargement so a panel is at least MIN_PANEL_WIDTH pixels wide."""
    return max(1, -(-MIN_PANEL_WIDTH // max(1, width)))


def _font(size: int = FONT_SIZE) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, width: int, font) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and draw.textlength(candidate, font=font) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def _enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    return image if scale == 1 else np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def block_columns(block: SeedBlock) -> tuple[str, ...]:
    """The block's panels: the shown channels its frames have, in table order."""
    return tuple(c.name for c in CHANNELS if c.show is not None and c.name in block.frames[0].arrays)


def _depth_scale(block: SeedBlock) -> tuple[float, float]:
    """The colour scale of every depth-like panel: the first depth-like channel's range."""
    first = next(c.name for c in CHANNELS if c.show == Show.DEPTH and c.name in block.frames[0].arrays)
    return depth_range(f.arrays[first] for f in block.frames)


def _panels(frame: FramePanels, columns: tuple[str, ...], scale: tuple[float, float]) -> dict[str, np.ndarray]:
    shows = {c.name: c.show for c in CHANNELS}
    return {name: show_channel(shows[name], frame.arrays[name], scale) for name in columns}


class _Canvas:
    """Wrapped text, pasted pixels and swatches. Without an image it only measures: the sheet is
    laid out once to find its height, then painted."""

    def __init__(self, image: Image.Image | None):
        self.image = image
        self.draw = ImageDraw.Draw(image if image is not None else Image.new("RGB", (1, 1)))
        self.font = _font()
        self.line = FONT_SIZE + 4

    def text(self, x: int, y: int, text: str, width: int, fill=TEXT) -> int:
        """Draw wrapped text; returns the y below it."""
        for line in _wrap(self.draw, text, width, self.font):
            if self.image is not None:
                self.draw.text((x, y), line, fill=fill, font=self.font)
            y += self.line
        return y

    def paste(self, x: int, y: int, pixels: np.ndarray) -> None:
        if self.image is not None:
            self.image.paste(Image.fromarray(pixels), (x, y))

    def swatch(self, x: int, y: int, color: tuple[int, int, int]) -> None:
        if self.image is not None:
            self.draw.rectangle([x, y, x + 10, y + 10], fill=color)


def _draw_block(canvas: _Canvas, block: SeedBlock, x0: int, y0: int, scale: int) -> tuple[int, dict[str, Any]]:
    """Draw one seed's block at (x0, y0); returns its bottom y and its layout."""
    h, w = block.frames[0].shape
    pw, ph = w * scale, h * scale
    columns = block_columns(block)
    titles = {c.name: c.title for c in CHANNELS}
    block_width = LABEL_WIDTH + len(columns) * pw + (len(columns) - 1) * GAP
    lo, hi = _depth_scale(block)
    y = canvas.text(x0, y0, f"seed {block.seed}", block_width)
    y = canvas.text(x0, y, block.caption, block_width, DIM)
    for c, column in enumerate(columns):
        canvas.text(x0 + LABEL_WIDTH + c * (pw + GAP), y, titles[column], pw, DIM)
    y += canvas.line
    rows = []
    for frame in block.frames:
        canvas.text(x0, y + ph // 2 - canvas.line // 2, f"frame {frame.frame}", LABEL_WIDTH - 4, DIM)
        boxes = {}
        for c, (column, pixels) in enumerate(_panels(frame, columns, (lo, hi)).items()):
            x = x0 + LABEL_WIDTH + c * (pw + GAP)
            canvas.paste(x, y, _enlarge(pixels, scale))
            boxes[column] = [x, y, pw, ph]
        rows.append({"frame": frame.frame, "boxes": boxes})
        y += ph + GAP

    # Legend: depth colour bar (near on the left) with its range, normals, instances, warnings.
    y += GAP
    bar_x, bar_w = x0 + LABEL_WIDTH, min(max(2 * pw, 200), 4 * pw)
    y = canvas.text(
        bar_x,
        y,
        f"depth {lo:.2f} m to {hi:.2f} m, inverse-depth scale (1st-99th percentile; black: no surface)",
        4 * pw,
    )
    positions = np.linspace(1.0, 0.0, bar_w)  # left: near (1), right: far (0)
    bar = DEPTH_LUT[np.rint(positions * (len(DEPTH_LUT) - 1)).astype(int)]
    canvas.paste(bar_x, y, np.repeat(bar[None], 10, axis=0))
    y += 10
    for t in (1.0, 0.5, 0.25, 0.0):
        x = bar_x + round((1.0 - t) * (bar_w - 1))
        label = f"{float(unit_to_depth(t, lo, hi)):.2f} m"
        width = canvas.draw.textlength(label, font=canvas.font)
        canvas.text(int(min(max(x - width / 2, bar_x), bar_x + bar_w - width)), y, label, 4 * pw, DIM)
    y += canvas.line + GAP
    y = canvas.text(bar_x, y, "normal: RGB = (n + 1) / 2, x right, y up, z towards the camera", 4 * pw, DIM)
    instances = {}
    for instance_id, label in sorted(block.instances.items()):
        color = instance_color(instance_id)
        canvas.swatch(bar_x, y + 2, color)
        y = canvas.text(bar_x + 16, y, f"{instance_id}: {label}", 4 * pw - 16)
        instances[str(instance_id)] = list(color)
    for warning in block.warnings:
        y = canvas.text(bar_x, y, f"warning: {warning}", 4 * pw, WARN)
    layout = {"seed": block.seed, "depth_range": [lo, hi], "instances": instances, "rows": rows}
    return y, layout


def block_width(block: SeedBlock, scale: int) -> int:
    count = len(block_columns(block))
    return LABEL_WIDTH + count * block.frames[0].shape[1] * scale + (count - 1) * GAP


def compose_contact_sheet(blocks: list[SeedBlock], title: str) -> tuple[Image.Image, dict[str, Any]]:
    """The contact sheet image of ``blocks`` (side by side) under ``title``, and its layout:
    ``{"panel_scale", "columns", "seeds": [{"seed", "depth_range", "instances", "rows":
    [{"frame", "boxes": {column: [x, y, w, h]}}]}]}``."""
    if not blocks or any(not b.frames for b in blocks):
        raise ValueError("a contact sheet needs at least one block with one frame")
    scale = panel_scale(blocks[0].frames[0].shape[1])
    width = 2 * MARGIN + sum(block_width(b, scale) for b in blocks) + 2 * MARGIN * (len(blocks) - 1)
    layouts: list[dict[str, Any]] = []
    height = 0
    for paint in (False, True):  # measure, then paint at the measured height
        canvas = _Canvas(Image.new("RGB", (width, height), BACKGROUND) if paint else None)
        y0 = canvas.text(MARGIN, MARGIN, title, width - 2 * MARGIN) + GAP
        x, bottom, layouts = MARGIN, y0, []
        for block in blocks:
            y, layout = _draw_block(canvas, block, x, y0, scale)
            layouts.append(layout)
            bottom = max(bottom, y)
            x += block_width(block, scale) + 2 * MARGIN
        height = bottom + MARGIN
    assert canvas.image is not None
    columns = max((block_columns(b) for b in blocks), key=len)
    return canvas.image, {"panel_scale": scale, "columns": list(columns), "seeds": layouts}


def animation_frames(sheet: Image.Image, layout: dict[str, Any]) -> list[np.ndarray]:
    """One animation frame per previewed frame: each seed's row of the sheet (frame label and its
    panels) under a line naming the seed, seeds stacked top to bottom."""
    pixels = np.asarray(sheet)
    font = _font()
    out = []
    for row in range(len(layout["seeds"][0]["rows"])):
        strips = []
        for seed in layout["seeds"]:
            boxes = list(seed["rows"][row]["boxes"].values())
            x0, x1 = boxes[0][0] - LABEL_WIDTH, boxes[-1][0] + boxes[-1][2]
            y, h = boxes[0][1], boxes[0][3]
            strip = Image.new("RGB", (x1 - x0, h + FONT_SIZE + 4 + GAP), BACKGROUND)
            strip.paste(Image.fromarray(pixels[y : y + h, x0:x1]), (0, FONT_SIZE + 4))
            ImageDraw.Draw(strip).text((0, 0), f"seed {seed['seed']}", fill=TEXT, font=font)
            strips.append(np.asarray(strip))
        width = max(s.shape[1] for s in strips)
        padded = [np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0))) for s in strips]
        out.append(np.concatenate(padded, axis=0))
    return out
