"""Images Blender loads (HDRIs, users' texture images): a file it cannot open or decode is an
error naming the file, never a black world or a pink surface rendered without a word."""

from __future__ import annotations

import bpy

from transphy3d.errors import UnreadableFileError


def load_image(path: str, what: str, formats: str, field: str | None = None) -> bpy.types.Image:
    """``path`` as a Blender image (shared when loaded before); ``what`` names it in errors
    ("HDRI"), ``formats`` the files it should be (".hdr/.exr")."""
    try:
        image = bpy.data.images.load(path, check_existing=True)
    except RuntimeError as error:  # a missing or unreadable file
        raise UnreadableFileError(f"Blender cannot open this {what} ({error})", path=path, field=field) from None
    if image.size[0] == 0 or image.size[1] == 0:  # loaded lazily: decoding failed
        bpy.data.images.remove(image)
        raise UnreadableFileError(
            f"not an image Blender can decode (truncated or not {formats})", path=path, field=field
        )
    return image
