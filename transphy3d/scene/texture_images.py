"""Users' own texture images: a check that an image decodes whole."""

from __future__ import annotations

from pathlib import Path

from transphy3d.errors import UnreadableFileError


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
