"""``transphy3d report RUN_DIR``: collect, summarise, plot, write ``report.json`` and
``report.html`` into ``RUN_DIR/report`` (or ``--out``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transphy3d.errors import UserError
from transphy3d.files import check_output_dir, write_json
from transphy3d.report.collect import collect
from transphy3d.report.figures import summarize
from transphy3d.report.page import write_channel_panels, write_page, write_thumbnails
from transphy3d.report.plots import write_plots

REPORT_DIR = "report"
REPORT_JSON = "report.json"


@dataclass(frozen=True)
class Report:
    json_path: Path
    html_path: Path
    figures: dict[str, Any]


def make_report(
    run_dir: str | Path, out: str | Path | None = None, thumbnails: int = 24, plots: bool = True, progress: bool = True
) -> Report:
    """Write the report of ``run_dir`` and return where it went and its figures."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError("not a directory", path=str(run_dir))
    out = check_output_dir(out if out is not None else run_dir / REPORT_DIR)
    run = collect(run_dir, progress=progress)
    figures = summarize(run)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / REPORT_JSON
    write_json(json_path, figures)
    plot_files = write_plots(run, figures, out) if plots else []
    thumbs, panels = write_thumbnails(run, out, thumbnails), write_channel_panels(run, out)
    html_path = write_page(run, figures, out, plot_files, thumbs, panels)
    return Report(json_path, html_path, figures)
