"""Where the data shipped with TransPhy3D lives: scene configs, the material library and the
starter asset bank. Every lookup of a shipped file goes through here."""

from __future__ import annotations

from pathlib import Path

# The top-level folders of a source checkout (scene_configs/, materials/, assets_manifest/).
SOURCE_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = SOURCE_ROOT / "scene_configs"
MATERIALS_DIR = SOURCE_ROOT / "materials"
ASSET_BANK_DIR = SOURCE_ROOT / "assets_manifest"


def shipped_config(name: str) -> Path:
    """The shipped scene config called ``name`` (``scene_configs/<name>.yaml``)."""
    return CONFIG_DIR / f"{name}.yaml"
