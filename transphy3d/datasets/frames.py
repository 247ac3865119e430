"""The reader layer's three types: a ``Frame`` (arrays decoded on first use, checked against each
other), a ``Sequence`` of frames (a video, or a group of independent frames) and a ``Dataset`` of
sequences. Every adapter builds these; every consumer reads only these."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from collections.abc import Sequence as SequenceOf
from pathlib import Path
from typing import Any

import numpy as np

from transphy3d.errors import UnreadableFileError

ARRAY_FIELDS = ("rgb", "depth", "raw_depth", "normal", "transparent")


class CorruptData(UnreadableFileError):
    """A dataset file that is missing, does not decode, or disagrees with its frame (size, values).
    One line naming the file; training counts it as a skip, every other command stops on it."""

    def __init__(self, path: str | Path, reason: str):
        self.reason = " ".join(str(reason).split())
        super().__init__(self.reason, path=str(path))


# A field's decoder: (the file it reads, for messages; a function of the frame giving the value).
Decoder = tuple[Path | None, Callable[["Frame"], Any]]


class Frame:
    """One frame. ``rgb`` uint8 (H, W, 3); ``depth`` float32 (H, W) metres along the optical axis,
    0 where invalid; ``raw_depth`` float32 sensor depth, 0 where invalid, or None; ``normal``
    float32 (H, W, 3) unit, OpenCV camera frame, or None; ``transparent`` bool (H, W) or None;
    ``K`` (3, 3) float64 at this frame's resolution. Each is decoded once, on first access, and
    every array must have the frame's size (else ``CorruptData`` naming the file)."""

    def __init__(self, frame_id: str, decoders: Mapping[str, Decoder], size: tuple[int, int] | None = None):
        self.id = frame_id
        self._decoders = dict(decoders)
        self._values: dict[str, Any] = {}
        self._size = size  # (H, W) every array must have: known up front, or the first one decoded

    def __repr__(self) -> str:
        return f"Frame({self.id!r})"

    def _get(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        if name not in self._decoders:
            return None
        path, decode = self._decoders[name]
        try:
            value = decode(self)
        except CorruptData:
            raise
        except FileNotFoundError as error:
            raise CorruptData(error.filename or path, "missing file") from error
        except UnreadableFileError as error:
            raise CorruptData(error.path or path, str(error).removeprefix(f"{error.path}: ")) from error
        except Exception as error:  # numpy, PIL, OpenEXR and scipy raise many types for damaged files
            raise CorruptData(path, f"unreadable ({type(error).__name__}: {error})") from error
        if name in ARRAY_FIELDS and value is not None:
            size = tuple(value.shape[:2])
            if self._size is None:
                self._size = size
            elif size != self._size:
                raise CorruptData(path, f"{name} is {size[1]}x{size[0]}, the frame is {self._size[1]}x{self._size[0]}")
        self._values[name] = value
        return value

    @property
    def rgb(self) -> np.ndarray:
        return self._get("rgb")

    @property
    def depth(self) -> np.ndarray:
        return self._get("depth")

    @property
    def raw_depth(self) -> np.ndarray | None:
        return self._get("raw_depth")

    @property
    def normal(self) -> np.ndarray | None:
        return self._get("normal")

    @property
    def transparent(self) -> np.ndarray | None:
        return self._get("transparent")

    @property
    def K(self) -> np.ndarray:
        return self._get("K")

    @property
    def camera_from_world(self) -> np.ndarray | None:
        """(4, 4) world-to-camera (OpenCV) where the dataset records the camera's pose, else None."""
        return self._get("camera_from_world")

    @property
    def size(self) -> tuple[int, int]:
        """(H, W): the RGB's."""
        return tuple(self.rgb.shape[:2])

    def has(self, name: str) -> bool:
        """True when the dataset carries ``name`` (rgb, depth, raw_depth, normal, transparent, K)."""
        return name in self._decoders


class Sequence:
    """Frames of one folder of a dataset: a video (frames in temporal order) when ``is_video``,
    else a group of independent frames. ``name`` is its folder relative to the dataset root."""

    def __init__(self, name: str, ids: SequenceOf[str], make_frame: Callable[[str], Frame], is_video: bool):
        self.name = name
        self.ids = list(ids)
        self.is_video = is_video
        self._make_frame = make_frame

    def __repr__(self) -> str:
        return f"Sequence({self.name!r}, frames={len(self.ids)})"

    def __len__(self) -> int:
        return len(self.ids)

    def frame(self, position: int) -> Frame:
        """The frame at ``position`` (0-based, in order)."""
        return self._make_frame(self.ids[position])

    def frames(self) -> Iterator[Frame]:
        """Every frame, in temporal order where the data is a video."""
        for frame_id in self.ids:
            yield self._make_frame(frame_id)


class Dataset:
    """Sequences of one dataset folder in one published format (``kind``)."""

    kind = ""
    is_video = False

    def __init__(self, root: Path):
        self.root = root
        self.skipped: list[str] = []  # what indexing left out, one message each

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r})"

    def sequences(self) -> list[Sequence]:
        raise NotImplementedError

    @property
    def spec(self) -> str:
        return f"{self.kind}:{self.root}"
