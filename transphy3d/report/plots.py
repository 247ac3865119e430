"""The report's plots (matplotlib, written as PNG): distributions over frames, objects and
scenes, and counts by category."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from transphy3d.errors import UserError
from transphy3d.report.collect import RunFigures


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise UserError(
            "plots need matplotlib: pip install 'transphy3d[report]' (or pass --no-plots)", field="report"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _histogram(plt, path: Path, title: str, xlabel: str, series: Sequence[tuple[str, Sequence[float]]]) -> None:
    fig, ax = plt.subplots(figsize=(5.2, 3.2), dpi=110)
    for label, values in series:
        if len(values):
            ax.hist(values, bins=30, alpha=0.65, label=label)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel("count", fontsize=9)
    if len(series) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _bars(plt, path: Path, title: str, counts: dict[str, int], top: int = 20) -> None:
    items = list(counts.items())[:top]
    fig, ax = plt.subplots(figsize=(5.2, max(1.6, 0.24 * len(items) + 0.8)), dpi=110)
    ax.barh([k for k, _ in reversed(items)], [v for _, v in reversed(items)], color="#4a7bb7")
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_plots(run: RunFigures, figures: dict, out: Path) -> list[tuple[str, str]]:
    """Write every plot into ``out``; returns (file name, caption) pairs in page order."""
    plt = _pyplot()
    q = [s.quality for s in run.scenes]
    plots: list[tuple[str, str]] = []

    def hist(name: str, caption: str, xlabel: str, *series: tuple[str, Sequence[float]]) -> None:
        _histogram(plt, out / name, caption, xlabel, series)
        plots.append((name, caption))

    def bars(name: str, caption: str, counts: dict[str, int]) -> None:
        if counts:
            _bars(plt, out / name, caption, counts)
            plots.append((name, caption))

    hist(
        "object_share.png",
        "Share of the image covered by objects, per frame",
        "share of image pixels",
        ("all objects", [v for s in q for v in s.object_share]),
        ("transparent objects", [v for s in q for v in s.transparent_share]),
    )
    hist(
        "visibility.png",
        "Frames in which each object is visible (share of the scene's frames)",
        "share of frames",
        ("objects", [o.visible_frames / s.frames for s in q for o in s.objects if s.frames]),
    )
    hist("elevation.png", "Camera elevation", "degrees", ("scenes", [s.elevation_deg for s in q]))
    hist("distance.png", "Camera distance to the objects' centre", "metres", ("scenes", [s.distance_m for s in q]))
    hist(
        "depth.png",
        "Median depth of object pixels",
        "metres",
        ("scenes", [s.object_depth.p50 for s in q if s.object_depth]),
    )
    hist(
        "seconds_per_frame.png",
        "Render seconds per frame",
        "seconds",
        ("scenes", [s.meta.seconds_per_frame for s in run.scenes]),
    )
    bars("materials.png", "Objects by material class", figures["materials"]["classes"])
    bars("presets.png", "Objects by material preset (top 20)", figures["materials"]["presets"])
    bars("kinds.png", "Objects by family (static: asset bank)", figures["kinds"])
    bars("rest_poses.png", "Objects by rest pose asked for", figures["rest_poses"])
    bars("at_rest.png", "Objects by how they lie after physics", figures["at_rest"])
    bars("environments.png", "Scenes by environment", figures["environments"])
    bars("worlds.png", "Scenes by world lighting", figures["worlds"])
    return plots
