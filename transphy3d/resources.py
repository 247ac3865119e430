"""Where the data shipped with TransPhy3D lives: the scene configs, the material library and the
starter asset bank. They are package data (``transphy3d/_shipped/``: links to the top-level
``scene_configs/``, ``materials/`` and ``assets_manifest/`` in a checkout, copies in an installed
wheel), so a regular install on a render node finds them wherever it runs."""

from __future__ import annotations

from pathlib import Path

SHIPPED = Path(__file__).parent / "_shipped"
CONFIG_DIR = SHIPPED / "scene_configs"
MATERIALS_DIR = SHIPPED / "materials"
ASSET_BANK_DIR = SHIPPED / "assets_manifest"
MIXTURES_DIR = SHIPPED / "mixtures"
CONFIG_SUFFIXES = (".yaml", ".yml")


def shipped_configs() -> dict[str, Path]:
    """The shipped scene configs by name (``default``, ``tiny``, ...)."""
    return {p.stem: p for p in sorted(CONFIG_DIR.glob("*.yaml"))}


def shipped_config(name: str) -> Path | None:
    """The shipped scene config called ``name``, or None."""
    return shipped_configs().get(name)


def shipped_mixture(name: str) -> Path | None:
    """The shipped training-data mixture called ``name`` (``dkt_paper``), or None."""
    path = MIXTURES_DIR / f"{name}.yaml"
    return path if path.is_file() else None
