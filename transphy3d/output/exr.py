"""OpenEXR reading and writing through the official ``OpenEXR`` Python bindings."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import OpenEXR

from transphy3d.errors import unreadable
from transphy3d.files import out_of_space
from transphy3d.native_output import held_native_output

# Lossless codecs that every OpenEXR 2.x/3.x reader understands. ZSTD and HTJ2K are newer (3.4+)
# and would lock out older readers (OpenCV, older imageio): see docs/benchmarks.md.
LOSSLESS_COMPRESSIONS: dict[str, OpenEXR.Compression] = {
    "none": OpenEXR.NO_COMPRESSION,
    "rle": OpenEXR.RLE_COMPRESSION,
    "zips": OpenEXR.ZIPS_COMPRESSION,
    "zip": OpenEXR.ZIP_COMPRESSION,
    "piz": OpenEXR.PIZ_COMPRESSION,
}
NEW_LOSSLESS_COMPRESSIONS: dict[str, OpenEXR.Compression] = {
    "zstd": OpenEXR.ZSTD_COMPRESSION,
    "htj2k": OpenEXR.HTJ2K256_COMPRESSION,
}


def write_exr(path: str | Path, channels: dict[str, np.ndarray], compression: str = "zip") -> None:
    """Write single-part scanline EXR ``path`` with one 2-D array per named channel.

    float32 arrays are stored as FLOAT, float16 as HALF, uint32 as UINT; nothing is converted.
    """
    codecs = LOSSLESS_COMPRESSIONS | NEW_LOSSLESS_COMPRESSIONS
    if compression not in codecs:
        raise ValueError(f"unknown EXR compression {compression!r}; allowed: {sorted(codecs)}")
    arrays = {}
    shape = None
    for name, array in channels.items():
        array = np.ascontiguousarray(array)
        if array.ndim != 2:
            raise ValueError(f"EXR channel {name!r} must be 2-D, got shape {array.shape}")
        if array.dtype not in (np.float32, np.float16, np.uint32):
            raise ValueError(f"EXR channel {name!r} has dtype {array.dtype}; use float32, float16 or uint32")
        if shape is not None and array.shape != shape:
            raise ValueError(f"EXR channels differ in shape: {shape} and {array.shape}")
        shape = array.shape
        arrays[name] = array
    header = {"compression": codecs[compression], "type": OpenEXR.scanlineimage}
    needed = sum(a.nbytes for a in arrays.values())
    with OpenEXR.File(header, arrays) as exr_file:
        try:
            exr_file.write(str(path))
        except RuntimeError as error:  # the bindings lose the errno: tell a full disk by its free space
            if out_of_space(Path(path).parent, needed):
                raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} writing {path}") from error
            raise
    # A file small enough for the stream's buffer fails on a full disk at close, silently: an EXR
    # always has a header, so an empty file is a failed write.
    if os.path.getsize(path) == 0:
        code = errno.ENOSPC if out_of_space(Path(path).parent, needed) else errno.EIO
        raise OSError(code, f"{os.strerror(code)} writing {path} (nothing was written)")


def read_exr(path: str | Path) -> dict[str, np.ndarray]:
    """All channels of the first part of ``path`` as 2-D arrays, keyed by channel name. A file
    that does not decode is an UnreadableFileError naming it; a missing one a FileNotFoundError."""
    if not Path(path).is_file():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    try:
        with held_native_output(), OpenEXR.File(str(path), separate_channels=True) as exr_file:
            return {name: np.array(channel.pixels) for name, channel in exr_file.channels().items()}
    except Exception as error:  # the bindings raise RuntimeError, TypeError, ... for damaged files
        raise unreadable(path, "OpenEXR file", error) from error


def read_multilayer_passes(path: str | Path, layer: str = "ViewLayer") -> dict[str, np.ndarray]:
    """Channels of a Blender multilayer EXR, keyed without the view-layer prefix (``Depth.Z``)."""
    prefix = layer + "."
    return {
        (name[len(prefix) :] if name.startswith(prefix) else name): pixels for name, pixels in read_exr(path).items()
    }
