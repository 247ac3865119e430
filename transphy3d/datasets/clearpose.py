"""ClearPose (opipari/ClearPose, ECCV 2022): ``set{k}/scene{m}/NNNNNN-{color,depth,depth_true,label,
normal_true}.png`` and ``metadata.mat`` per scene; 640x480 RGB-D videos along a hand-held
trajectory (frames consecutive, ids may skip). Depth PNGs are uint16 in units of 1 / factor_depth
metres (1000: millimetres), 0 invalid; ground truth is ``depth_true``, ``depth`` the sensor's.
``label`` holds object ids: 1-63 transparent objects, 200-207 opaque distractors, 0 background.
``metadata.mat`` has one struct per frame id (``cls_indexes``, ``camera_intrinsics`` 3x3,
``rotation_translation_matrix``, ``center``, ``factor_depth``, ``bbox``, ``poses``), read for the
frame alone (``scipy.io.loadmat``, which reads MATLAB data and runs no code).
``rotation_translation_matrix`` is the camera's pose, camera-to-world (ProgressLabeller, branch
``transparent``, ``offline/render.py``, which writes it: object poses in the camera are
``inv(campose) @ model``); ``camera_from_world`` is its inverse (checked on fixtures, not on the
release), which gives the temporal metric its camera-motion flow (the scenes are static).

Test subsets (``SUBSETS``) as ClearPose's README and D3RoMa's ``data/stereo_datasets.py`` define them.
Normals (``normal_true``) are not read: ProgressLabeller writes (n + 1) * 255 / 2 of normals
computed from the true depth, in a camera frame its code does not state.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from transphy3d.datasets.decode import MAX_MAT_BYTES, read_image, read_rgb
from transphy3d.datasets.folder import FolderDataset, frame_ids
from transphy3d.datasets.frames import CorruptData, Frame
from transphy3d.datasets.scan import Lister, Listing
from transphy3d.errors import UserError

COLOR = "-color.png"
DEPTH_TRUE = "-depth_true.png"
DEPTH_RAW = "-depth.png"
LABEL = "-label.png"
METADATA = "metadata.mat"
TRANSPARENT_IDS = (1, 63)  # inclusive; 200-207 are opaque distractors
# name -> {set number: scene numbers (None: every scene of the set)}
SUBSETS: dict[str, dict[int, tuple[int, ...] | None]] = {
    "heavy_occlusion": {2: None, 3: None},
    "new_background": {1: (5,), 4: (6,), 5: (6,), 6: (6,), 7: (6,)},
    "opaque": {8: (1, 2, 3)},
    "translucent_cover": {8: (4,), 9: (7, 8)},
    "non_planar": {8: (5,), 9: (11, 12)},
    "liquid": {8: (6,), 9: (9, 10)},
    "train": {1: (1, 2, 3, 4), 4: (1, 2, 3, 4, 5), 5: (1, 2, 3, 4, 5), 6: (1, 2, 3, 4, 5), 7: (1, 2, 3, 4, 5)},
}
TEST_SUBSETS = ("heavy_occlusion", "new_background", "opaque", "translucent_cover", "non_planar", "liquid")


def set_and_scene(name: str) -> tuple[int, int] | None:
    """(k, m) of a sequence named ``.../set{k}/scene{m}``, else None."""
    parts = name.split("/")
    if len(parts) < 2 or not parts[-2].startswith("set") or not parts[-1].startswith("scene"):
        return None
    try:
        return int(parts[-2][3:]), int(parts[-1][5:])
    except ValueError:
        return None


def in_subset(name: str, subset: str) -> bool:
    """True when sequence ``name`` belongs to ``subset`` (see ``SUBSETS``)."""
    where = set_and_scene(name)
    if where is None or where[0] not in SUBSETS[subset]:
        return False
    scenes = SUBSETS[subset][where[0]]
    return scenes is None or where[1] in scenes


def check_subset(subset: str | None) -> None:
    if subset is not None and subset not in SUBSETS:
        raise UserError(f"{subset!r}; allowed: {', '.join(SUBSETS)}", field="--subset")


def frame_metadata(path: Path, frame_id: str) -> tuple[np.ndarray, float, np.ndarray | None]:
    """(K, factor_depth, world-to-camera 4x4 or None) of one frame of ``metadata.mat``."""
    from scipy.io import loadmat

    size = path.stat().st_size
    if size > MAX_MAT_BYTES:
        raise CorruptData(path, f"{size} bytes; at most {MAX_MAT_BYTES}")
    record = loadmat(path, variable_names=[frame_id]).get(frame_id)
    if record is None:
        raise CorruptData(path, f"no entry for frame {frame_id}")
    try:
        entry = record[0, 0] if record.dtype.names else record
        K = np.asarray(entry["camera_intrinsics"], dtype=np.float64).reshape(3, 3)
        factor = float(np.asarray(entry["factor_depth"], dtype=np.float64).reshape(-1)[0])
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise CorruptData(
            path, f"frame {frame_id}: camera_intrinsics (3x3) and factor_depth needed ({error})"
        ) from None
    if not np.isfinite(K).all() or K[0, 0] <= 0 or K[1, 1] <= 0 or not (np.isfinite(factor) and factor > 0):
        raise CorruptData(path, f"frame {frame_id}: K {K.tolist()}, factor_depth {factor}: must be finite and > 0")
    return K, factor, camera_from_world(entry, path, frame_id)


def camera_from_world(entry, path: Path, frame_id: str) -> np.ndarray | None:
    """The inverse of a frame's ``rotation_translation_matrix`` (camera-to-world [R|t]), or None."""
    names = entry.dtype.names or ()
    if "rotation_translation_matrix" not in names:
        return None
    pose = np.asarray(entry["rotation_translation_matrix"], dtype=np.float64)
    if pose.shape != (3, 4) or not np.isfinite(pose).all():
        raise CorruptData(path, f"frame {frame_id}: rotation_translation_matrix must be a finite 3x4 [R|t]")
    rotation, translation = pose[:, :3], pose[:, 3]
    out = np.eye(4)
    out[:3, :3] = rotation.T
    out[:3, 3] = -rotation.T @ translation
    return out


def depth_png(path: Path, factor: float) -> np.ndarray:
    values = read_image(path)
    if values.ndim != 2 or values.dtype not in (np.uint16, np.int32, np.uint8):
        raise CorruptData(path, f"a 16-bit single-channel depth PNG is expected, got {values.dtype} {values.shape}")
    return (values.astype(np.float32) / np.float32(factor)).astype(np.float32)


class ClearPoseDataset(FolderDataset):
    kind = "clearpose"
    is_video = True
    LAYOUT = "set{k}/scene{m}/metadata.mat with NNNNNN-color.png and NNNNNN-depth_true.png"

    def __init__(self, root: str | Path, cache_dir: str | Path | None = None, subset: str | None = None):
        check_subset(subset)
        self.subset = subset
        super().__init__(root, cache_dir)
        if subset is not None:
            self.listing = [
                (name, ids) for name, ids in self.listing if in_subset((self.root / name).as_posix(), subset)
            ]
            if not self.listing:
                raise UserError(f"no scene of subset {subset} under this folder", path=str(self.root), field="--subset")

    @staticmethod
    def recognises(files: set[str], folders: set[str]) -> bool:
        """True for a ClearPose scene folder."""
        return METADATA in files and any(n.endswith(DEPTH_TRUE) for n in files)

    def scan(self, lister: Lister) -> Listing:
        listing = Listing()
        for folder in lister.walk(lambda _f, files, _d: METADATA in files):
            files = set(lister.files(folder))
            ids = []
            for frame_id in frame_ids(sorted(files), COLOR):
                if f"{frame_id}{DEPTH_TRUE}" in files:
                    ids.append(frame_id)
                else:
                    listing.skipped.append(f"{folder / (frame_id + COLOR)}: no {frame_id}{DEPTH_TRUE}; skipped")
            listing.sequences.append((lister.relative(folder), sorted(ids, key=int)))
        return listing

    def frame(self, sequence: str, frame_id: str) -> Frame:
        folder = self.folder(sequence)
        color, truth, raw, label = (folder / f"{frame_id}{s}" for s in (COLOR, DEPTH_TRUE, DEPTH_RAW, LABEL))
        meta = folder / METADATA

        @cache
        def metadata(_frame: Frame) -> tuple[np.ndarray, float, np.ndarray | None]:
            return frame_metadata(meta, frame_id)

        def transparent(frame: Frame) -> np.ndarray:
            ids = read_image(label)
            return (ids >= TRANSPARENT_IDS[0]) & (ids <= TRANSPARENT_IDS[1])

        return Frame(
            frame_id,
            {
                "rgb": (color, lambda f: read_rgb(color)),
                "depth": (truth, lambda f: depth_png(truth, metadata(f)[1])),
                "raw_depth": (raw, lambda f: depth_png(raw, metadata(f)[1]) if raw.is_file() else None),
                "transparent": (label, transparent),
                "K": (meta, lambda f: metadata(f)[0]),
                "camera_from_world": (meta, lambda f: metadata(f)[2]),
            },
        )
