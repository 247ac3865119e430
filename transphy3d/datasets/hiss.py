"""HISS (D3RoMa, songlin/d3roma): ``HISS/{train,val}/<scene>/NNNN_{color.png, depth.exr,
simDepthImage.exr, ir_l.png, ir_r.png}``; frames are independent. Depth in metres (possibly one
half-float ``Y`` channel); ``bad_his.txt`` in a split folder lists frames to skip (the first word
of a line is the path of the frame's ``_depth.exr``, as ``data/stereo_datasets.py`` reads it). No
intrinsics on disk: 640x360 with a 71.28 degree horizontal field of view, square pixels, centred
principal point. No transparent label. (D3RoMa's own loader also leaves out scenes whose path
names glass, mirror or bed: a training choice of theirs, not applied here.)"""

from __future__ import annotations

import math
from pathlib import Path, PurePosixPath

from transphy3d.datasets.decode import exr_channel, intrinsics_from_fov, read_rgb, read_text, valid_depth
from transphy3d.datasets.folder import FolderDataset, frame_ids
from transphy3d.datasets.frames import Frame
from transphy3d.datasets.scan import Lister, Listing

FOV_X = math.radians(71.28)
COLOR = "_color.png"
DEPTH = "_depth.exr"
RAW = "_simDepthImage.exr"
BAD_LIST = "bad_his.txt"


def bad_frames(path: Path) -> set[tuple[str, str]]:
    """(scene folder name, frame id) of every frame ``bad_his.txt`` lists."""
    bad = set()
    for line in read_text(path).splitlines():
        words = line.split()
        if not words:
            continue
        entry = PurePosixPath(words[0].replace("\\", "/"))
        if entry.name.endswith(DEPTH) and entry.parent.name:
            bad.add((entry.parent.name, entry.name[: -len(DEPTH)]))
    return bad


class HissDataset(FolderDataset):
    kind = "hiss"
    is_video = False
    LAYOUT = "<scene>/NNNN_color.png with NNNN_depth.exr"

    @staticmethod
    def recognises(files: set[str], folders: set[str]) -> bool:
        """True for a HISS split (its skip list) or scene folder."""
        return BAD_LIST in files or any(n.endswith(DEPTH) for n in files)

    def scan(self, lister: Lister) -> Listing:
        lists: list[Path] = []

        def accept(folder: Path, files: list[str], _folders: list[str]) -> bool:
            if BAD_LIST in files:
                lists.append(folder)
            return any(n.endswith(DEPTH) for n in files)

        listing = Listing()
        scenes = lister.walk(accept)
        bad = {folder: bad_frames(lister.watch(folder / BAD_LIST)) for folder in lists}
        for folder in scenes:
            files = set(lister.files(folder))
            skip = set().union(*(b for where, b in bad.items() if where == folder or where in folder.parents))
            ids = []
            for frame_id in frame_ids(sorted(files), DEPTH):
                if (folder.name, frame_id) in skip:
                    listing.skipped.append(f"{folder / (frame_id + DEPTH)}: listed in {BAD_LIST}; skipped")
                elif f"{frame_id}{COLOR}" not in files:
                    listing.skipped.append(f"{folder / (frame_id + DEPTH)}: no {frame_id}{COLOR}; skipped")
                else:
                    ids.append(frame_id)
            listing.sequences.append((lister.relative(folder), ids))
        return listing

    def frame(self, sequence: str, frame_id: str) -> Frame:
        folder = self.folder(sequence)
        color, depth, raw = (folder / f"{frame_id}{s}" for s in (COLOR, DEPTH, RAW))
        return Frame(
            frame_id,
            {
                "rgb": (color, lambda f: read_rgb(color)),
                "depth": (depth, lambda f: valid_depth(exr_channel(depth))),
                "raw_depth": (raw, lambda f: valid_depth(exr_channel(raw)) if raw.is_file() else None),
                "K": (None, lambda f: intrinsics_from_fov(f.size[1], f.size[0], FOV_X)),
            },
        )
