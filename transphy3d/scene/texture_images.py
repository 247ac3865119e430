"""Users' own texture images on the environment's surfaces (``environment.textures``): the
folder's images, a check that an image decodes, and the ``image`` texture a surface gets."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from transphy3d.errors import UnreadableFileError, UserError
from transphy3d.rng import stream
from transphy3d.scene import material_params as mp
from transphy3d.scene.config import SceneConfig, Surface
from transphy3d.scene.config_loader import config_file_path, where_set
from transphy3d.scene.spec import MaterialSpec, TextureSpec

KEY = "environment.textures.directory"


def texture_images(config: SceneConfig) -> list[Path]:
    """The images a config's surfaces may draw from, sorted (none when the config sets no folder
    or never uses it); a missing folder or one without images is a one-line error."""
    tc = config.environment.textures
    directory = config_file_path(config, KEY)
    if directory is None or tc.probability == 0 or not tc.surfaces:
        return []
    if not directory.is_dir():
        raise UserError(f"texture folder {directory} not found", **where_set(config, KEY))
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in mp.IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise UserError(
            f"no {'/'.join(mp.IMAGE_SUFFIXES)} images in the texture folder {directory}", **where_set(config, KEY)
        )
    return files


def check_image(path: str | Path, field: str) -> None:
    """Raise an UnreadableFileError naming ``path`` and ``field`` unless the image decodes whole
    (Blender renders a truncated PNG or JPEG grey or pink without a word)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".exr":
            import OpenEXR

            with OpenEXR.File(str(path)) as exr:
                exr.channels()
        else:
            from PIL import Image

            with Image.open(path) as image:
                image.load()
    except Exception as error:  # Pillow and OpenEXR raise OSError, RuntimeError, SyntaxError ...
        detail = " ".join(str(error).split()) or type(error).__name__
        raise UnreadableFileError(f"not a readable image ({detail})", path=str(path), field=field) from None


def image_texture(path: Path, config: SceneConfig, rng: np.random.Generator) -> TextureSpec:
    """The ``image`` texture of ``path``: every field written out, scale and relief from the
    config, a right-angle turn and a random start."""
    tc = config.environment.textures
    info = mp.TEXTURE_KIND_INFO["image"]
    values = {f.name: info.default(f.name) for f in mp.TEXTURE_FIELDS}
    values |= {
        "scale": float(tc.scale.sample(rng)),
        "bump": float(tc.bump.sample(rng)),
        "rotation_deg": mp.IMAGE_ROTATIONS_DEG[int(rng.integers(len(mp.IMAGE_ROTATIONS_DEG)))],
        "offset": tuple(float(v) for v in rng.uniform(0.0, mp.TEXTURE_OFFSET_RANGE, 3)),
    }
    return TextureSpec(type="image", image=str(path.resolve()), **values)


def with_user_image(
    material: MaterialSpec, surface: Surface, config: SceneConfig, images: list[Path], seed: int
) -> MaterialSpec:
    """``material``, or (with the configured probability, from the surface's own stream) the same
    material covered with one of ``images``."""
    tc = config.environment.textures
    if not images or surface not in tc.surfaces:
        return material
    rng = stream(seed, "texture_image", surface)
    if rng.random() >= tc.probability:
        return material
    path = images[int(rng.integers(len(images)))]
    check_image(path, KEY)
    return material.model_copy(update={"texture": image_texture(path, config, rng)})
