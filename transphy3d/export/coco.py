"""COCO instances export: ``<out>/annotations.json`` (RLE of the visible masks, boxes, areas,
iscrowd 0; ``videos`` and per image ``video_id``, ``frame_id`` and ``scene`` so clips can be
rebuilt) and the images as ``<out>/images/scene_NNNNNN/<frame:06d>.png`` (hard links, or copies).

Each scene is first written as its images' folder (published by rename) and a part file
``<out>/.coco_parts/scene_NNNNNN.json`` holding its annotations with every category attribute;
annotations.json is made from the parts, so the category choice and the ids do not depend on
which scenes an interrupted export had written.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from transphy3d.errors import UserError
from transphy3d.export.masks import coco_box, rle
from transphy3d.export.options import CATEGORY_KINDS, IMAGE_MODES
from transphy3d.export.run import SceneJob
from transphy3d.files import (
    partial_path,
    publish_directory,
    read_json,
    remove_stale_partials,
    remove_stale_temporaries,
    write_bytes_if_changed,
    write_json,
)
from transphy3d.output.channels import MASK, RGB, frame_path
from transphy3d.output.reader import SceneObject

PARTS = ".coco_parts"
ANNOTATIONS = "annotations.json"


def place_image(source: Path, target: Path, mode: str) -> None:
    """A hard link to ``source`` (our frames are never rewritten in place), or a copy where
    linking is not possible (another file system) or ``mode`` is copy."""
    if mode == "link":
        try:
            os.link(source, target)
            return
        except OSError:
            pass
    shutil.copyfile(source, target)


def categories_of(obj: SceneObject) -> dict[str, str]:
    """The category an object has under each ``--categories`` choice: its family (a static
    asset: its asset id), its material class, or transparent / opaque."""
    source = obj.source or {}
    family = source.get("family") or source.get("asset_id") or source.get("kind") or "unknown"
    transparent = bool(obj.material.get("transparent", False))
    return {"family": str(family), "material": obj.material_class or "unknown",
            "transparency": "transparent" if transparent else "opaque"}  # fmt: skip


class CocoExporter:
    """``transphy3d export --format coco``."""

    name = "coco"

    def __init__(self, out: Path, categories: str = "family", images: str = "link"):
        if categories not in CATEGORY_KINDS:
            raise UserError(f"must be one of {', '.join(CATEGORY_KINDS)}, got {categories!r}", field="--categories")
        if images not in IMAGE_MODES:
            raise UserError(f"must be one of {', '.join(IMAGE_MODES)}, got {images!r}", field="--images")
        self.out, self.categories, self.images = out, categories, images

    def part_path(self, job: SceneJob) -> Path:
        return self.out / PARTS / f"{job.name}.json"

    def start(self, jobs: list[SceneJob]) -> dict[int, str]:
        (self.out / PARTS).mkdir(parents=True, exist_ok=True)
        (self.out / "images").mkdir(exist_ok=True)
        remove_stale_temporaries(self.out / PARTS)
        remove_stale_temporaries(self.out)
        return {}

    def is_done(self, job: SceneJob) -> bool:
        return self.part_path(job).is_file() and (self.out / "images" / job.name).is_dir()

    def export(self, job: SceneJob) -> int:
        scene = job.open()
        final = self.out / "images" / job.name
        if not final.is_dir():
            remove_stale_partials(final)
            partial = partial_path(final)
            try:
                partial.mkdir()
                for f in range(scene.num_frames):
                    place_image(frame_path(scene.path, RGB, f), partial / f"{f:06d}.png", self.images)
                publish_directory(partial, final)
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                raise
        frames = []
        for f in range(scene.num_frames):
            mask = scene.read(MASK, f)
            annotations = []
            for obj in scene.objects:
                visible = mask == obj.instance_id
                if visible.any():
                    annotations.append({"instance_id": obj.instance_id, "categories": categories_of(obj),
                                        "segmentation": rle(visible), "bbox": coco_box(visible),
                                        "area": int(visible.sum())})  # fmt: skip
            frames.append({"frame_id": f, "file_name": f"images/{job.name}/{f:06d}.png", "annotations": annotations})
        part = {"scene": job.name, "video_id": job.index, "width": scene.width, "height": scene.height,
                "fps": scene.fps, "frames": frames}  # fmt: skip
        write_json(self.part_path(job), part)
        return scene.num_frames

    def finish(self, jobs: list[SceneJob]) -> bool:
        """annotations.json from the parts of ``jobs`` (index order): images numbered from 1 in
        (video, frame) order, annotations from 1, categories numbered from 1 in name order."""
        parts = [read_json(self.part_path(job)) for job in jobs if self.part_path(job).is_file()]
        names = sorted(
            {a["categories"][self.categories] for p in parts for fr in p["frames"] for a in fr["annotations"]}
        )
        category_id = {name: i + 1 for i, name in enumerate(names)}
        videos, images, annotations = [], [], []
        for part in parts:
            videos.append(
                {"id": part["video_id"], "name": part["scene"], "num_frames": len(part["frames"]), "fps": part["fps"]}
            )
            for frame in part["frames"]:
                image_id = len(images) + 1
                images.append({"id": image_id, "file_name": frame["file_name"], "width": part["width"],
                               "height": part["height"], "video_id": part["video_id"], "frame_id": frame["frame_id"],
                               "scene": part["scene"]})  # fmt: skip
                for a in frame["annotations"]:
                    annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                        "category_id": category_id[a["categories"][self.categories]],
                                        "segmentation": a["segmentation"], "area": a["area"], "bbox": a["bbox"],
                                        "iscrowd": 0, "instance_id": a["instance_id"], "video_id": part["video_id"],
                                        "attributes": a["categories"]})  # fmt: skip
        coco = {
            "info": {"description": "transphy3d export", "categories_by": self.categories},
            "licenses": [],
            "categories": [{"id": i, "name": n, "supercategory": self.categories} for n, i in category_id.items()],
            "videos": videos,
            "images": images,
            "annotations": annotations,
        }
        return write_bytes_if_changed(self.out / ANNOTATIONS, (json.dumps(coco) + "\n").encode())
