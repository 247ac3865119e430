"""Config + seed -> SceneSpec, in pure Python. Every part of the scene draws from its own named
stream (``transphy3d.rng.stream``), so adding an object does not move the camera."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from transphy3d.errors import UserError
from transphy3d.resources import MATERIALS_DIR
from transphy3d.rng import derive_seed, stream
from transphy3d.scene import environment as env
from transphy3d.scene.config import CameraConfig, SceneConfig, WaveConfig
from transphy3d.scene.config_loader import config_digest, config_file_path, where_set
from transphy3d.scene.liquids import sample_liquid
from transphy3d.scene.materials import MaterialLibrary, load_library, sample_material
from transphy3d.scene.meshes import object_mesh
from transphy3d.scene.placement import Body, Footprint, drop_pose, stable_rest_pose
from transphy3d.scene.procedural import sample_params
from transphy3d.scene.sensor import resolve_sensor
from transphy3d.scene.spec import (
    RECTANGULAR_LIGHTS,
    CameraAlternative,
    CameraSpec,
    ConfigRef,
    EnvironmentSpec,
    LightSpec,
    MaterialSpec,
    ObjectSpec,
    OutputSpec,
    PhysicsSpec,
    Pose,
    ProceduralSource,
    RenderSpec,
    RoomSpec,
    SceneSpec,
    SupportSpec,
    WaveSpec,
    WorldSpec,
)
from transphy3d.scene.texture_images import texture_images, with_user_image

HDRI_SUFFIXES = (".hdr", ".exr")
DROP_SLACK = 1.5  # the drop square's side over the side of the objects' summed footprint squares (random placement jams near 55 % cover)
PANEL_CEILING_GAP = 0.02  # metres between a ceiling panel and the room's ceiling


def _material(library: MaterialLibrary, ref_dist, rng: np.random.Generator) -> MaterialSpec:
    return sample_material(library, ref_dist.sample(rng), rng)


def drop_region(
    x_range: tuple[float, float], y_range: tuple[float, float], side: float, spread: float, rng: np.random.Generator
) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square of ``side`` metres (clipped to ``spread`` of the support) placed at random inside
    the central ``spread`` fraction of the support."""
    out = []
    for lo, hi in (x_range, y_range):
        centre, half = (lo + hi) / 2, (hi - lo) / 2 * spread
        h = min(side / 2, half)
        c = centre + rng.uniform(-(half - h), half - h)
        out.append((float(c - h), float(c + h)))
    return out[0], out[1]


def sample_environment(
    config: SceneConfig, library: MaterialLibrary, seed: int, min_drop_side: float = 0.0
) -> EnvironmentSpec:
    """Floor, table or container, room, and the support with its drop region (at least
    ``min_drop_side`` metres wide, room permitting)."""
    ec = config.environment
    images = texture_images(config)

    def surface(material: MaterialSpec, role: str) -> MaterialSpec:  # a user's image, maybe
        return with_user_image(material, role, config, images, seed)

    rng = stream(seed, "environment")
    kind = ec.type.sample(rng)
    parts = [env.floor_part(ec.floor_size, surface(_material(library, ec.floor_material, rng), "floor"))]
    if kind == "tabletop":
        t = ec.tabletop
        sx, sy, height, thickness = (
            t.size_x.sample(rng),
            t.size_y.sample(rng),
            t.height.sample(rng),
            t.thickness.sample(rng),
        )
        parts += env.table_parts(sx, sy, height, thickness, surface(_material(library, t.material, rng), "table"))
        x_range, y_range, z = (-sx / 2, sx / 2), (-sy / 2, sy / 2), height
    else:
        c = ec.container
        sx, sy, height, wall = (c.size_x.sample(rng), c.size_y.sample(rng), c.height.sample(rng), c.wall.sample(rng))
        material = surface(_material(library, c.material, rng), "container")
        parts.append(env.container_part(sx, sy, height, wall, material))
        ix, iy = sx / 2 - wall, sy / 2 - wall
        x_range, y_range, z = (-ix, ix), (-iy, iy), wall
    side = max(float(config.objects.drop_area.sample(rng)), min_drop_side)
    drop_x, drop_y = drop_region(x_range, y_range, side, config.objects.spread, rng)
    support = SupportSpec(kind=kind, x_range=x_range, y_range=y_range, z=z, drop_x_range=drop_x, drop_y_range=drop_y)
    room_rng = stream(seed, "room")
    room = None
    if room_rng.random() < ec.room.probability:
        r = ec.room
        room = RoomSpec(
            margin=r.margin.sample(room_rng),
            height=r.height.sample(room_rng),
            material=surface(_material(library, r.material, room_rng), "wall"),
        )
    return EnvironmentSpec(type=kind, parts=parts, support=support, room=room)


def _procedural_object(
    config: SceneConfig, library: MaterialLibrary, instance_id: int, rng: np.random.Generator
) -> ObjectSpec:
    oc = config.objects
    family = oc.families.sample(rng)
    params = sample_params(family, rng, oc.family_params.get(family))
    return ObjectSpec(
        instance_id=instance_id,
        name=f"obj_{instance_id:04d}_{family}",
        source=ProceduralSource(family=family, params=params, segments=oc.mesh_segments),
        scale=float(oc.scale.sample(rng)),
        material=_material(library, oc.materials, rng),
        density=float(oc.density.sample(rng)),
        friction=float(config.physics.friction.sample(rng)),
        restitution=float(config.physics.restitution.sample(rng)),
        drop_height=float(oc.drop_height.sample(rng)),
        initial_pose=Pose(position=(0.0, 0.0, 0.0), quaternion=(1.0, 0.0, 0.0, 0.0)),
    )


def _static_object(config: SceneConfig, library: MaterialLibrary, instance_id: int, bank, seed: int) -> ObjectSpec:
    """An asset of the bank: which asset, its size and material mode from the ``static_asset``
    stream; material and physical properties from the object's own stream."""
    from transphy3d.scene.static_assets import draw_static, own_material, slug

    oc = config.objects
    manifest, records = bank
    record, source = draw_static(oc, manifest, records, stream(seed, "static_asset", instance_id))
    rng = stream(seed, "object", instance_id)
    return ObjectSpec(
        instance_id=instance_id,
        name=f"obj_{instance_id:04d}_{slug(record.asset_id)}",
        source=source,
        scale=1.0,
        material=own_material(record) if source.keep_materials else _material(library, oc.materials, rng),
        density=float(oc.density.sample(rng)),
        friction=float(config.physics.friction.sample(rng)),
        restitution=float(config.physics.restitution.sample(rng)),
        drop_height=float(oc.drop_height.sample(rng)),
        initial_pose=Pose(position=(0.0, 0.0, 0.0), quaternion=(1.0, 0.0, 0.0, 0.0)),
    )


def sample_objects(config: SceneConfig, library: MaterialLibrary, seed: int) -> list[ObjectSpec]:
    """Shapes, materials and physical properties of the objects; start poses come later
    (``place_objects``), once the drop region is known. The initial pose is a placeholder.
    With ``objects.static_fraction`` > 0 each object is a static asset with that probability
    (the ``object_kind`` stream); with 0 no static-asset stream is drawn from at all. The rest
    pose has its own stream, so choosing it moves nothing else; an object that would tip over
    standing as asked (a bottle on its neck) stands the other way up or is dropped. A container's
    liquid has its own stream too (``transphy3d.scene.liquids``)."""
    oc = config.objects
    count = int(oc.count.sample(stream(seed, "object_count")))
    bank = None
    if oc.static_fraction > 0:
        from transphy3d.scene.static_assets import load_bank

        bank = load_bank(config)
    objects = []
    for instance_id in range(1, count + 1):
        if bank is not None and stream(seed, "object_kind", instance_id).random() < oc.static_fraction:
            obj = _static_object(config, library, instance_id, bank, seed)
        else:
            obj = _procedural_object(config, library, instance_id, stream(seed, "object", instance_id))
        asked = oc.rest_pose.sample(stream(seed, "rest_pose", instance_id))
        rest_pose = stable_rest_pose(object_mesh(obj), asked)
        objects.append(obj.model_copy(update={"rest_pose": rest_pose, "liquid": sample_liquid(oc.liquid, obj, seed)}))
    return objects


def place_objects(objects: list[ObjectSpec], support: SupportSpec, seed: int) -> list[ObjectSpec]:
    """Random start poses over the drop region (attempt 0 of the placement streams)."""
    placed: list = []
    out = []
    for obj in objects:
        body = Body(obj.instance_id, object_mesh(obj))
        rng = stream(seed, "placement", 0, obj.instance_id)
        pose = drop_pose(body, support, obj.drop_height, placed, rng, rest_pose=obj.rest_pose)
        out.append(obj.model_copy(update={"initial_pose": pose}))
    return out


def min_drop_side(objects: list[ObjectSpec]) -> float:
    """The side of a square with room for every object (packing slack DROP_SLACK): a standing
    object needs the square around its footprint, one that may lie on its side its bounding
    diameter by its footprint's."""
    area = 0.0
    for o in objects:
        body = Body(o.instance_id, object_mesh(o))
        width = 2 * Footprint.of(body.mesh.vertices).radius
        area += width * (width if o.rest_pose != "random" else 2 * body.radius)
    return DROP_SLACK * math.sqrt(area)


def _wave(config: WaveConfig, rng: np.random.Generator) -> WaveSpec:
    return WaveSpec(
        amplitude=float(config.amplitude.sample(rng)),
        frequency=float(config.frequency.sample(rng)),
        phase=float(config.phase.sample(rng)),
    )


def sample_camera(config: SceneConfig, seed: int) -> CameraSpec:
    cc = config.camera
    rng = stream(seed, "camera")
    n_alternatives = cc.visibility.alternatives if cc.visibility.min_visible_pairs > 0 else 0
    return CameraSpec(
        focal_length_mm=float(cc.focal_length_mm.sample(rng)),
        sensor_width_mm=cc.sensor_width_mm,
        framing=float(cc.framing.sample(rng)),
        elevation_deg=float(cc.elevation_deg.sample(rng)),
        start_azimuth_deg=float(cc.start_azimuth_deg.sample(rng)),
        sweep_deg=float(cc.sweep_deg.sample(rng)),
        direction=int(cc.direction.sample(rng)),
        radius_wave=_wave(cc.radius_wave, rng),
        height_wave=_wave(cc.height_wave, rng),
        look_waves=(_wave(cc.look_wave, rng), _wave(cc.look_wave, rng), _wave(cc.look_wave, rng)),
        keep_in_view_margin=cc.keep_in_view_margin,
        clip_near=cc.clip_near,
        clip_far=cc.clip_far,
        min_visible_pairs=cc.visibility.min_visible_pairs,
        fill=float(cc.fill.sample(stream(seed, "camera_fill"))),
        alternatives=[_camera_alternative(cc, stream(seed, "camera_alternative", k)) for k in range(n_alternatives)],
    )


def _camera_alternative(cc: CameraConfig, rng: np.random.Generator) -> CameraAlternative:
    return CameraAlternative(
        elevation_deg=float(cc.elevation_deg.sample(rng)),
        start_azimuth_deg=float(cc.start_azimuth_deg.sample(rng)),
        framing=float(cc.framing.sample(rng)),
    )


def sample_world(config: SceneConfig, seed: int) -> WorldSpec:
    lc = config.lighting
    rng = stream(seed, "world")
    kind = lc.world.sample(rng)
    if kind == "sky":
        s = lc.sky
        params = {
            "sun_elevation_deg": s.sun_elevation_deg.sample(rng),
            "sun_rotation_deg": s.sun_rotation_deg.sample(rng),
            "strength": s.strength.sample(rng),
            "air_density": s.air_density.sample(rng),
            "dust_density": s.dust_density.sample(rng),
        }
    elif kind == "gradient":
        g = lc.gradient
        params = {
            "horizon_color": g.horizon_color.sample(rng),
            "zenith_color": g.zenith_color.sample(rng),
            "strength": g.strength.sample(rng),
        }
    else:
        h = lc.hdri
        choices = [("name", name) for name in h.bundled] + [("file", str(f)) for f in _user_hdris(config)]
        if not choices:
            raise UserError(
                "the 'hdri' world needs HDRIs: lighting.hdri.bundled names none and lighting.hdri.directory is not set",
                **where_set(config, "lighting.hdri.bundled"),
            )
        key, value = choices[int(rng.integers(len(choices)))]
        params = {key: value, "strength": h.strength.sample(rng), "rotation_deg": h.rotation_deg.sample(rng)}
    return WorldSpec(type=kind, params={k: (float(v) if isinstance(v, int | float) else v) for k, v in params.items()})


def _user_hdris(config: SceneConfig) -> list[Path]:
    """The .hdr/.exr files of ``lighting.hdri.directory`` (none when it is not set)."""
    key = "lighting.hdri.directory"
    directory = config_file_path(config, key)
    if directory is None:
        return []
    files = sorted(p for p in directory.glob("*") if p.suffix.lower() in HDRI_SUFFIXES) if directory.is_dir() else []
    if not files:
        raise UserError(f"no .hdr/.exr files in {directory}", **where_set(config, key))
    return [f.resolve() for f in files]


def sample_lights(config: SceneConfig, environment: EnvironmentSpec, seed: int) -> list[LightSpec]:
    """Lamps around the support: softboxes, spots and bulbs at ``distance`` and ``elevation_deg``
    aimed at its centre; ceiling panels facing down at ``panel_height`` above the floor (just
    under the room's ceiling when there is a room), up to ``distance`` off the centre."""
    lc = config.lighting.lights
    support = environment.support
    count = int(lc.count.sample(stream(seed, "light_count")))
    target = np.array([sum(support.x_range) / 2, sum(support.y_range) / 2, support.z])
    lights = []
    for index in range(count):
        rng = stream(seed, "light", index)
        kind = lc.type.sample(rng)
        azimuth = rng.uniform(0.0, 2 * math.pi)
        elevation = math.radians(lc.elevation_deg.sample(rng))
        distance = lc.distance.sample(rng)
        size, aspect = float(lc.size.sample(rng)), float(lc.aspect.sample(rng))
        panel_height = float(lc.panel_height.sample(rng))  # drawn for every light: one order of draws
        if kind == "panel":
            room = environment.room
            height = room.height - PANEL_CEILING_GAP if room is not None else panel_height
            reach = distance * math.cos(elevation)
            position = np.array([target[0] + reach * math.cos(azimuth), target[1] + reach * math.sin(azimuth), height])
            aim = position - np.array([0.0, 0.0, 1.0])
        else:
            offset = distance * np.array(
                [math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth), math.sin(elevation)]
            )
            position, aim = target + offset, target
        lights.append(
            LightSpec(
                type=kind,
                position=tuple(float(v) for v in position),
                target=tuple(float(v) for v in aim),
                power_w=float(lc.power_w.sample(rng)),
                temperature_k=float(lc.temperature_k.sample(rng)),
                size=size,
                size_y=size / aspect if kind in RECTANGULAR_LIGHTS else None,
                spot_angle_deg=float(lc.spot_angle_deg.sample(rng)),
            )
        )
    return lights


def sample_spec(config: SceneConfig, seed: int) -> SceneSpec:
    """The fully resolved scene for ``config`` and ``seed`` (before physics)."""
    if seed < 0:
        raise UserError(f"seed must be >= 0, got {seed}", field="seed")
    library = load_library(config_file_path(config, "materials_dir") or MATERIALS_DIR)
    objects = sample_objects(config, library, seed)
    environment = sample_environment(config, library, seed, min_drop_side(objects))
    rc, cc = config.render, config.camera
    render = RenderSpec(
        **rc.model_dump(exclude={"device", "threads"}),
        frames=cc.frames,
        fps=cc.fps,
        cycles_seed=derive_seed(seed, "cycles"),
    )
    return SceneSpec(
        seed=seed,
        config=ConfigRef(name=config.name, digest=config_digest(config)),
        render=render,
        physics=PhysicsSpec(**config.physics.model_dump(exclude={"friction", "restitution"})),
        output=OutputSpec(
            **{**config.output.model_dump(), "channels": list(dict.fromkeys(config.output.channels)) or None}
        ),
        environment=environment,
        objects=place_objects(objects, environment.support, seed),
        world=sample_world(config, seed),
        lights=sample_lights(config, environment, seed),
        camera=sample_camera(config, seed),
        sensor=resolve_sensor(config.sensor),
    )
