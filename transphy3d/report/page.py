"""``report.html``: the headline figures against the default config's targets, the plots, a grid
of thumbnails (first frame of evenly spaced scenes) and the failures. Self-contained next to its
PNGs; no scripts."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from PIL import Image

from transphy3d.output.channels import CHANNELS, RGB, Show, frame_path, present_in
from transphy3d.output.colormaps import depth_range, show_channel
from transphy3d.report.collect import RunFigures

THUMBNAIL_WIDTH = 208
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1180px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 20px; } td, th { padding: 3px 10px; border-bottom: 1px solid #ddd;
text-align: left; } .met { color: #17803d; } .missed { color: #b42318; font-weight: 600; }
.plots img { width: 49%; } .grid { display: flex; flex-wrap: wrap; gap: 8px; }
.grid figure { margin: 0; width: 208px; font-size: 12px; } .grid img { width: 208px; display: block; }
code { background: #f4f4f4; padding: 1px 4px; }
"""


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def write_thumbnails(run: RunFigures, out: Path, count: int) -> list[tuple[str, str]]:
    """First frames of ``count`` evenly spaced scenes as PNGs in ``out/thumbnails``."""
    if count <= 0:
        return []
    folder = out / "thumbnails"
    folder.mkdir(parents=True, exist_ok=True)
    step = max(1, len(run.scenes) / count)
    chosen = [run.scenes[int(i * step)] for i in range(min(count, len(run.scenes)))]
    thumbs = []
    for scene in chosen:
        frame = (scene.meta.rendered_frames or [0])[0]
        source = frame_path(scene.path, RGB, frame)
        try:
            with Image.open(source) as image:
                image = image.convert("RGB")
                height = max(1, round(image.height * THUMBNAIL_WIDTH / image.width))
                image.resize((THUMBNAIL_WIDTH, height), Image.Resampling.LANCZOS).save(
                    folder / f"{scene.path.name}.png"
                )
        except OSError:
            continue
        q = scene.quality
        share = sum(q.object_share) / max(len(q.object_share), 1)
        caption = f"{scene.path.name}: {len(q.objects)} objects, {_pct(share)} of the image, {q.environment}, {q.world}"
        thumbs.append((f"thumbnails/{scene.path.name}.png", caption))
    return thumbs


def write_channel_panels(run: RunFigures, out: Path) -> list[tuple[str, str]]:
    """One picture per shown channel that any scene holds: its first rendered frame in the first
    scene that holds it, drawn as the preview draws it, in ``out/channels``."""
    folder = out / "channels"
    panels = []
    for row in CHANNELS:
        scene = next((s for s in run.scenes if row.show is not None and row in present_in(s.path)), None)
        if scene is None:
            continue
        frame = (scene.meta.rendered_frames or [0])[0]
        try:
            array = row.read(row.path(scene.path, frame))
            scale = depth_range([array]) if row.show == Show.DEPTH else (1.0, 2.0)
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(show_channel(row.show, array, scale)).save(folder / f"{row.name}.png")
        except (OSError, ValueError):
            continue
        panels.append((f"channels/{row.name}.png", f"{row.title}: {scene.path.name}, frame {frame}"))
    return panels


def _headline(figures: dict[str, Any]) -> str:
    rows = [
        ("scenes", figures["scenes"], ""),
        ("frames measured", figures["frames"], ""),
        ("objects", figures["objects"], ""),
        ("scenes with liquid", f"{figures['liquids']['scenes']} ({_pct(figures['liquids']['scene_share'])})", ""),
    ]
    body = "".join(f"<tr><td>{k}</td><td>{v}</td><td>{t}</td></tr>" for k, v, t in rows)
    for key, result in figures["targets"].items():
        value = result["value"]
        shown = str(value) if key.endswith("frames_without_visible_object") else _pct(value)
        css = "" if result["met"] is None else ("met" if result["met"] else "missed")
        body += f'<tr><td>{html.escape(key)}</td><td class="{css}">{shown}</td><td>{html.escape(result["target"])}</td></tr>'
    return f"<table><tr><th>figure</th><th>value</th><th>default-config target</th></tr>{body}</table>"


def _cost_table(rows: list[dict[str, Any]]) -> str:
    cells = "".join(
        f"<tr><td>{html.escape(r['device'])}</td><td>{html.escape(r['quality'])}</td><td>{r['scenes']}</td>"
        f"<td>{r['seconds_per_frame']['median']:.2f}</td><td>{r['seconds_per_frame']['mean']:.2f}</td></tr>"
        for r in rows
    )
    return (
        "<h2>Render cost</h2><table><tr><th>device</th><th>quality preset</th><th>scenes</th>"
        f"<th>s per frame (median)</th><th>s per frame (mean)</th></tr>{cells}</table>"
    )


def _sensor_table(sensor: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(region)}</td><td>{f['pixels']}</td><td>{_pct(f['coverage'])}</td>"
        f"<td>{_pct(f['within_2pct'])}</td><td>{_pct(f['failed'])}</td></tr>"
        for region, f in sensor.items()
        if isinstance(f, dict)
    )
    return (
        f"<h2>Simulated depth camera ({sensor['scenes']} scenes)</h2><table><tr><th>region</th><th>pixels</th>"
        "<th>with a return</th><th>returns within 2 %</th><th>failed (no return or off by more than 2 %)</th></tr>"
        f"{rows}</table><p>opaque, transparent: true depth within the camera's ideal range (min-Z to "
        "ideal_max_depth_m); opaque_far: opaque beyond it, up to max_depth_m.</p>"
    )


def write_page(
    run: RunFigures,
    figures: dict[str, Any],
    out: Path,
    plots: list[tuple[str, str]],
    thumbs: list[tuple[str, str]],
    channel_panels: list[tuple[str, str]] | None = None,
) -> Path:
    """Write ``out/report.html``; returns its path."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>TransPhy3D report: {html.escape(run.root.name)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Data report: <code>{html.escape(str(run.root))}</code></h1>",
        _headline(figures),
        "<p>Object share: the share of a frame's pixels whose instance mask is an object (median over all frames). "
        f"An object is visible in a frame when it covers at least {100 * figures['visibility']['visible_share_threshold']:.2f} %"
        " of the image. All figures are in <code>report.json</code>.</p>",
    ]
    parts.append(_cost_table(figures["render_cost"]))
    if "sensor" in figures:
        parts.append(_sensor_table(figures["sensor"]))
    if figures.get("channels"):
        counts = "".join(f"<tr><td>{html.escape(n)}/</td><td>{k}</td></tr>" for n, k in figures["channels"].items())
        parts.append(f"<h2>Channels</h2><table><tr><th>channel</th><th>scenes</th></tr>{counts}</table>")
        parts.append("<div class='grid'>")
        parts += [
            f"<figure><img src='{p}'><figcaption>{html.escape(c)}</figcaption></figure>"
            for p, c in channel_panels or []
        ]
        parts.append("</div>")
    if plots:
        parts.append("<h2>Distributions</h2><div class='plots'>")
        parts += [
            f"<img src='{name}' alt='{html.escape(caption)}' title='{html.escape(caption)}'>" for name, caption in plots
        ]
        parts.append("</div>")
    if thumbs:
        parts.append("<h2>Scenes</h2><div class='grid'>")
        parts += [f"<figure><img src='{p}'><figcaption>{html.escape(c)}</figcaption></figure>" for p, c in thumbs]
        parts.append("</div>")
    if run.failures:
        parts.append(
            f"<h2>Failures ({len(run.failures)})</h2><table><tr><th>scene</th><th>status</th><th>error</th></tr>"
        )
        parts += [
            f"<tr><td>{f.scene}</td><td>{f.status}</td><td>{html.escape(f.error)}</td></tr>" for f in run.failures[:200]
        ]
        parts.append("</table>")
    parts.append("<h2>All figures</h2><pre>" + html.escape(json.dumps(figures, indent=1)) + "</pre></body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
