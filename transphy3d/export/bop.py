"""BOP-scenewise export (github thodan/bop_toolkit, docs/bop_datasets_format.md).

``<out>/models/obj_NNNNNN.ply`` (millimetres, centred on the box centre, vertex normals) with
``models_info.json``; ``camera.json``; ``obj_sources.json`` (obj_id -> family or asset, material
class); per scene ``<out>/<split>/<scene index:06d>/`` with ``rgb/``, ``depth/`` (uint16 PNG,
depth in mm = value * depth_scale), ``mask/`` (amodal) and ``mask_visib/`` (visible) as
``<frame:06d>_<gt:06d>.png``, ``scene_camera.json``, ``scene_gt.json``, ``scene_gt_info.json``
and ``scene_gt_coco.json``. docs/format.md ("Exports") states every mapping.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from transphy3d.errors import UserError
from transphy3d.export.catalogue import Catalogue, Model
from transphy3d.export.masks import Silhouettes, bop_box, rle
from transphy3d.export.options import DEFAULT_SPLIT
from transphy3d.export.run import BAD_SCENE, SceneJob
from transphy3d.files import (
    partial_path,
    publish_directory,
    read_json,
    remove_stale_partials,
    remove_stale_temporaries,
    write_bytes_if_changed,
)
from transphy3d.output.channels import DEPTH, MASK, RGB, frame_path
from transphy3d.output.reader import Scene

MM = 1000.0  # BOP lengths are millimetres
UINT16_MAX = 65535


def json_bytes(data: object) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n").encode()


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def depth_scale(scene: Scene) -> float:
    """mm per depth unit such that the far clip is 65535: every depth the renderer can give fits."""
    return float(scene.camera.clip_far) * MM / UINT16_MAX


def encode_depth(depth_m: np.ndarray, scale: float) -> np.ndarray:
    """uint16 depth image of a depth map in metres (0 stays 0: no surface)."""
    units = np.round(np.where(depth_m > 0, depth_m, 0.0) * MM / scale)
    return np.clip(units, 0, UINT16_MAX).astype(np.uint16)


def model_centre(mesh) -> np.ndarray:
    """The centre of the mesh's axis-aligned box (metres): the BOP model's origin."""
    lo, hi = mesh.bounds
    return (lo + hi) / 2.0


def model_info(vertices_mm: np.ndarray) -> dict:
    """models_info.json's entry: the 3D box (min and size per axis) and the diameter (largest
    distance between two vertices, over the convex hull's vertices)."""
    import trimesh
    from scipy.spatial.distance import pdist

    lo, hi = vertices_mm.min(axis=0), vertices_mm.max(axis=0)
    try:
        hull = trimesh.Trimesh(vertices_mm, process=False).convex_hull.vertices
    except Exception:  # a flat or degenerate point set: every vertex then
        hull = vertices_mm
    diameter = float(pdist(hull).max()) if len(hull) > 1 else 0.0
    info = {f"min_{a}": float(lo[i]) for i, a in enumerate("xyz")}
    info |= {f"size_{a}": float(hi[i] - lo[i]) for i, a in enumerate("xyz")}
    return info | {"diameter": diameter}


def model_to_camera(object_to_world: np.ndarray, world_to_camera: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """4x4 BOP model (mm, centred) -> camera (mm) of one object in one frame."""
    shift = np.eye(4)
    shift[:3, 3] = centre
    m2c = world_to_camera @ object_to_world @ shift
    m2c[:3, 3] *= MM
    return m2c


class BopExporter:
    """``transphy3d export --format bop``."""

    name = "bop"

    def __init__(self, out: Path, split: str = DEFAULT_SPLIT):
        if not split or split in (".", "..") or any(c in split for c in "/\\") or split == "models":
            raise UserError(f"must be a folder name (like {DEFAULT_SPLIT}), got {split!r}", field="--split")
        self.out, self.split = out, split
        self.catalogue = Catalogue()
        self.changed = False

    def scene_dir(self, job: SceneJob) -> Path:
        return self.out / self.split / f"{job.index:06d}"

    def start(self, jobs: list[SceneJob]) -> dict[int, str]:
        problems = {}
        first: Scene | None = None
        for job in jobs:
            try:
                scene = job.open()
                self.catalogue.add_scene(job.index, scene)
                first = first or scene
            except BAD_SCENE as error:
                problems[job.index] = " ".join(str(error).split())
        (self.out / "models").mkdir(parents=True, exist_ok=True)
        for folder in (self.out, self.out / "models"):
            remove_stale_temporaries(folder)
        self._write_models()
        if first is not None:
            K = first.K
            camera = {"cx": K[0, 2], "cy": K[1, 2], "fx": K[0, 0], "fy": K[1, 1], "width": first.width,
                      "height": first.height, "depth_scale": depth_scale(first)}  # fmt: skip
            self.changed |= write_bytes_if_changed(self.out / "camera.json", json_bytes(camera))
        return problems

    def _write_models(self) -> None:
        info_path = self.out / "models" / "models_info.json"
        known = {int(k): v for k, v in read_json(info_path).items()} if info_path.is_file() else {}
        infos = {}
        for model in self.catalogue.models:
            path = self.out / "models" / f"obj_{model.obj_id:06d}.ply"
            if path.is_file() and model.obj_id in known:
                infos[model.obj_id] = known[model.obj_id]
                continue
            data, infos[model.obj_id] = self._model_file(model)
            self.changed |= write_bytes_if_changed(path, data)
        self.changed |= write_bytes_if_changed(info_path, json_bytes({str(k): v for k, v in infos.items()}))
        sources = {str(m.obj_id): m.record() for m in self.catalogue.models}
        self.changed |= write_bytes_if_changed(self.out / "obj_sources.json", json_bytes(sources))

    @staticmethod
    def _model_file(model: Model) -> tuple[bytes, dict]:
        import trimesh

        mesh = trimesh.load(model.mesh_path, force="mesh", process=False)
        vertices = (np.asarray(mesh.vertices, dtype=np.float64) - model_centre(mesh)) * MM
        model_mesh = trimesh.Trimesh(vertices, mesh.faces, process=False)
        data = trimesh.exchange.ply.export_ply(model_mesh, encoding="binary", vertex_normal=True)
        return data, model_info(vertices)

    def is_done(self, job: SceneJob) -> bool:
        return (self.scene_dir(job) / "scene_gt_coco.json").is_file()

    def export(self, job: SceneJob) -> int:
        final = self.scene_dir(job)
        final.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(final)
        partial = partial_path(final)
        try:
            frames = self._write_scene(job, partial)
            publish_directory(partial, final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        return frames

    def _write_scene(self, job: SceneJob, folder: Path) -> int:
        scene = job.open()
        for sub in ("rgb", "depth", "mask", "mask_visib"):
            (folder / sub).mkdir(parents=True)
        objects = scene.objects
        meshes = [o.load_mesh() for o in objects]
        centres = [model_centre(m) for m in meshes]
        obj_ids = [self.catalogue.ids[(job.index, o.instance_id)] for o in objects]
        silhouettes = Silhouettes(scene.K, scene.width, scene.height)
        scale = depth_scale(scene)
        cameras, gts, infos, coco_images, coco_annotations = {}, {}, {}, [], []
        for f in range(scene.num_frames):
            frame = scene.frame(f, channels=[DEPTH, MASK])
            w2c = scene.world_to_camera[f]
            shutil.copyfile(frame_path(scene.path, RGB, f), folder / "rgb" / f"{f:06d}.png")
            (folder / "depth" / f"{f:06d}.png").write_bytes(png_bytes(encode_depth(frame.depth, scale)))
            cameras[str(f)] = {"cam_K": scene.K.ravel().tolist(), "cam_R_w2c": w2c[:3, :3].ravel().tolist(),
                               "cam_t_w2c": (w2c[:3, 3] * MM).tolist(), "depth_scale": scale}  # fmt: skip
            gts[str(f)], infos[str(f)] = [], []
            coco_images.append({"id": f, "file_name": f"rgb/{f:06d}.png", "width": scene.width, "height": scene.height})
            for gt, (obj, mesh, centre, obj_id) in enumerate(zip(objects, meshes, centres, obj_ids, strict=True)):
                m2c = model_to_camera(obj.object_to_world[f], w2c, centre)
                gts[str(f)].append({"obj_id": obj_id, "cam_R_m2c": m2c[:3, :3].ravel().tolist(),
                                    "cam_t_m2c": m2c[:3, 3].tolist()})  # fmt: skip
                visible = frame.mask == obj.instance_id
                if obj.liquid is not None:  # its liquid carries its id; seen first, it is not the object
                    visible &= ~liquid_first(silhouettes, mesh, obj, obj.object_to_world[f], w2c)
                amodal = silhouettes.mask(mesh, obj.object_to_world[f], w2c) | visible  # an edge-grazing pixel
                name = f"{f:06d}_{gt:06d}.png"
                (folder / "mask" / name).write_bytes(png_bytes(amodal.astype(np.uint8) * 255))
                (folder / "mask_visib" / name).write_bytes(png_bytes(visible.astype(np.uint8) * 255))
                info = gt_info(amodal, visible, frame.depth)
                infos[str(f)].append(info)
                if info["px_count_visib"]:
                    coco_annotations.append({"id": len(coco_annotations) + 1, "image_id": f, "category_id": obj_id,
                                             "iscrowd": 0, "area": info["px_count_visib"], "bbox": info["bbox_obj"],
                                             "segmentation": rle(visible), "width": scene.width,
                                             "height": scene.height, "ignore": info["visib_fract"] < 0.1})  # fmt: skip
        categories = [
            {"id": m.obj_id, "name": str(m.obj_id), "supercategory": "transphy3d"} for m in self.catalogue.models
        ]
        coco = {"info": {"description": f"transphy3d {self.split} {job.index:06d}"}, "licenses": [],
                "categories": categories, "images": coco_images, "annotations": coco_annotations}  # fmt: skip
        for name, data in (
            ("scene_camera", cameras),
            ("scene_gt", gts),
            ("scene_gt_info", infos),
            ("scene_gt_coco", coco),
        ):
            (folder / f"{name}.json").write_bytes(json_bytes(data))
        return scene.num_frames

    def finish(self, jobs: list[SceneJob]) -> bool:
        return self.changed


def liquid_first(silhouettes: Silhouettes, mesh, obj, object_to_world: np.ndarray, w2c: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels whose centre ray meets the container's liquid before the container
    itself (looking in through its opening), which BOP's visible mask must leave out."""
    liquid = obj.load_liquid_mesh()
    nearer = silhouettes.distance(liquid, object_to_world, w2c) < silhouettes.distance(mesh, object_to_world, w2c)
    return nearer


def gt_info(amodal: np.ndarray, visible: np.ndarray, depth: np.ndarray) -> dict:
    """scene_gt_info.json's entry of one object in one frame (pixel counts inside the image)."""
    px_all, px_visib = int(amodal.sum()), int(visible.sum())
    return {
        "bbox_obj": bop_box(amodal),
        "bbox_visib": bop_box(visible),
        "px_count_all": px_all,
        "px_count_valid": int((amodal & (depth > 0)).sum()),
        "px_count_visib": px_visib,
        "visib_fract": px_visib / px_all if px_all else 0.0,
    }
