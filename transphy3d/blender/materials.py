"""Sampled materials (``MaterialSpec``) as Cycles node trees: a Principled BSDF whose inputs are
those of ``transphy3d.scene.material_params``, optionally with a surface texture.

Two families of texture kinds (``material_params.TEXTURE_KINDS``):
- the legacy patterns (noise, checker, wave, voronoi, brick, musgrave): one Blender pattern in
  object coordinates times ``scale`` mixing the base colour with ``color2``, exactly the node tree
  they always had when the texture fields are at their defaults;
- the surface kinds (wood, planks, marble, laminate, fabric, brushed, tiles, plastic, image):
  box-projected onto the faces of the part (each face takes the two object axes of its plane), in
  pattern units of 1/``scale`` metres, each with its colour, a height for the Bump node and a
  roughness signal (``_Surface``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bpy

from transphy3d.blender.images import load_image
from transphy3d.scene import material_params as mp
from transphy3d.scene.spec import LiquidSpec, MaterialSpec, PrincipledParams, TextureSpec
from transphy3d.scene.texture_images import check_image

Socket = Any  # bpy.types.NodeSocket, or a constant a socket takes
RGBA = tuple[float, float, float, float]


def _rgba(rgb) -> RGBA:
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]), 1.0)


class _Graph:
    """Shorthand for building one node tree: values are linked when they are sockets, set otherwise."""

    def __init__(self, tree: bpy.types.NodeTree):
        self.nodes, self.links = tree.nodes, tree.links

    def set(self, socket: bpy.types.NodeSocket, value: Socket) -> None:
        if isinstance(value, bpy.types.NodeSocket):
            self.links.new(value, socket)
        else:
            socket.default_value = value

    def node(self, kind: str, inputs: dict[str | int, Socket] | None = None, **attrs: Any) -> bpy.types.Node:
        node = self.nodes.new(kind)
        for name, value in attrs.items():
            setattr(node, name, value)
        for key, value in (inputs or {}).items():
            self.set(node.inputs[key], value)
        return node

    def math(self, operation: str, a: Socket, b: Socket = 0.0, c: Socket = 0.0, clamp: bool = False) -> Socket:
        return self.node("ShaderNodeMath", {0: a, 1: b, 2: c}, operation=operation, use_clamp=clamp).outputs[0]

    def vmath(
        self, operation: str, a: Socket, b: Socket = (0.0, 0.0, 0.0), c: Socket = (0.0, 0.0, 0.0), scale: Socket = 1.0
    ) -> Socket:
        node = self.node("ShaderNodeVectorMath", {0: a, 1: b, 2: c, 3: scale}, operation=operation)
        return node.outputs["Value" if operation in ("LENGTH", "DOT_PRODUCT", "DISTANCE") else "Vector"]

    def mix(self, a: Socket, b: Socket, factor: Socket, kind: str = "FLOAT", blend: str = "MIX") -> Socket:
        node = self.node("ShaderNodeMix", data_type=kind, blend_type=blend)
        for name, value in (("Factor", factor), ("A", a), ("B", b)):
            self.set(node.inputs[name], value)
        return node.outputs["Result"]

    def map(self, value: Socket, low: float, high: float, to: tuple[float, float] = (0.0, 1.0), smooth: bool = True):
        """``value`` from [low, high] to ``to``, clamped (smoothstep by default)."""
        node = self.node("ShaderNodeMapRange", interpolation_type="SMOOTHSTEP" if smooth else "LINEAR")
        for name, v in (("Value", value), ("From Min", low), ("From Max", high), ("To Min", to[0]), ("To Max", to[1])):
            self.set(node.inputs[name], v)
        return node.outputs["Result"]

    def noise(self, vector: Socket, stretch: tuple[float, float, float] = (1.0, 1.0, 1.0), detail: float = 2.0):
        """Perlin fractal noise (0..1, mean 0.5) of ``vector`` times ``stretch`` per axis."""
        scaled = self.vmath("MULTIPLY", vector, stretch)
        node = self.node("ShaderNodeTexNoise", {"Vector": scaled, "Scale": 1.0, "Detail": detail, "Roughness": 0.55})
        return node.outputs["Fac"]

    def wave(self, vector: Socket, kind: str, direction: str, profile: str, **inputs: Socket) -> Socket:
        """A wave texture whose period is one unit of ``vector`` (Blender's bands are 2 pi / 20 apart)."""
        node = self.node("ShaderNodeTexWave", wave_type=kind, wave_profile=profile)
        if kind == "BANDS":
            node.bands_direction = direction
        else:
            node.rings_direction = direction
        self.set(node.inputs["Vector"], vector)
        self.set(node.inputs["Scale"], 2 * math.pi / 20)
        self.set(node.inputs["Distortion"], 0.0)
        for name, value in inputs.items():
            self.set(node.inputs[name.replace("_", " ").title()], value)
        return node.outputs["Fac"]

    def split(self, vector: Socket) -> bpy.types.Node:
        return self.node("ShaderNodeSeparateXYZ", {0: vector})

    def hsv(self, color: Socket, hue: Socket = 0.5, saturation: Socket = 1.0, value: Socket = 1.0) -> Socket:
        node = self.node("ShaderNodeHueSaturation", {"Hue": hue, "Saturation": saturation, "Value": value})
        self.set(node.inputs["Color"], color)
        return node.outputs["Color"]


@dataclass(frozen=True)
class _Surface:
    """What a texture gives the shader: the base colour, a 0..1 height for the Bump node, and a
    -1..1 roughness signal (roughness + ``roughness_variation`` x signal, clamped)."""

    color: Socket
    height: Socket | None = None
    roughness: Socket | None = None


@dataclass(frozen=True)
class _Faces:
    """Box projection: per face, the two object axes of its plane (u, v) and the one across (w),
    and which axis the face looks along (1 or 0 per shading point)."""

    uvw: Socket
    along_x: Socket
    along_y: Socket
    along_z: Socket


def _box_projection(g: _Graph) -> _Faces:
    """Faces looking along z take (x, y), along y (x, z), along x (y, z): a 2-D pattern never
    smears across a wall or the edge of a table top (object coordinates alone would)."""
    coords = g.node("ShaderNodeTexCoord")
    n = g.split(g.vmath("ABSOLUTE", coords.outputs["Normal"]))
    along_z = g.math("GREATER_THAN", n.outputs["Z"], g.math("MAXIMUM", n.outputs["X"], n.outputs["Y"]))
    not_z = g.math("SUBTRACT", 1.0, along_z)
    along_y = g.math("MULTIPLY", g.math("GREATER_THAN", n.outputs["Y"], n.outputs["X"]), not_z)
    along_x = g.math("SUBTRACT", not_z, along_y)
    p = g.split(coords.outputs["Object"])
    x, y, z = p.outputs["X"], p.outputs["Y"], p.outputs["Z"]
    u = g.mix(x, y, along_x)
    v = g.mix(z, y, along_z)
    w = g.mix(g.mix(x, y, along_y), z, along_z)
    uvw = g.node("ShaderNodeCombineXYZ", {"X": u, "Y": v, "Z": w}).outputs["Vector"]
    return _Faces(uvw, along_x, along_y, along_z)


# ---------------------------------------------------------------------------------------------
# Surface kinds: each takes the pattern coordinates (one unit = the kind's unit in
# material_params.TEXTURE_KIND_INFO), the texture and its two colours.

RINGS_PER_BOARD = 18.0  # growth rings across a plank (a 15 cm board: 8 mm rings)


def _wood_rings(g: _Graph, p: Socket, tex: TextureSpec, base: RGBA, color2: RGBA) -> _Surface:
    """Growth rings of a log lying along u, cut near its axis and tilted a few degrees, so the
    face shows arches and straight grain; the rings wander (slow noise stretched along the
    grain), have uneven widths and uneven darkness, end in darker late wood, and the wood has
    broad bands of tone and fine pores along the grain. ``p`` in ring spacings."""
    ox, oy, oz = tex.offset or (0.0, 0.0, 0.0)
    axis_y, depth, tilt = ox % 30.0 - 15.0, 2.0 + oy % 12.0, math.radians(2.0 + oz % 4.0)
    q = g.node("ShaderNodeMapping", {"Vector": p, "Location": (0.0, -axis_y, depth), "Rotation": (0.0, tilt, 0.0)})
    q = q.outputs["Vector"]
    wander = g.math("MULTIPLY_ADD", g.noise(q, (0.012, 0.07, 0.07), 3.0), 2 * math.pi * 6.0, -math.pi * 6.0)
    uneven = g.math("MULTIPLY_ADD", g.noise(q, (0.03, 0.25, 0.25), 2.0), 2 * math.pi * 1.2, -math.pi * 1.2)
    ring = g.wave(q, "RINGS", "X", "SAW", phase_offset=g.math("ADD", wander, uneven))
    strength = g.map(g.noise(q, (0.02, 0.35, 0.35), 2.0), 0.3, 0.7, (0.2, 1.0))
    late = g.math("MULTIPLY", g.map(ring, 0.55, 0.97), strength)
    pores = g.map(g.noise(p, (0.3, 10.0, 10.0), 2.0), 0.5, 0.8)
    bands = g.map(g.noise(q, (0.01, 0.12, 0.12), 2.0), 0.3, 0.7, (0.75, 1.15))
    c = float(tex.contrast if tex.contrast is not None else mp.TEXTURE_CONTRAST_DEFAULT)
    color = g.mix(base, color2, g.math("MULTIPLY", late, c), "RGBA")
    color = g.mix(color, (0.4, 0.35, 0.3, 1.0), g.math("MULTIPLY", pores, 0.3 * c), "RGBA", "MULTIPLY")
    color = g.hsv(color, value=bands)
    height = g.math("SUBTRACT", 1.0, g.math("MULTIPLY_ADD", late, 0.4, g.math("MULTIPLY", pores, 0.6)))
    return _Surface(color, height, g.math("SUBTRACT", g.math("MULTIPLY", pores, 2.0), late))


def _wood(g: _Graph, p: Socket, tex: TextureSpec, base: RGBA, color2: RGBA) -> _Surface:
    return _wood_rings(g, p, tex, base, color2)


def _planks(g: _Graph, p: Socket, tex: TextureSpec, base: RGBA, color2: RGBA) -> _Surface:
    """Boards ``aspect`` widths long along u in rows of one width, the joints of each row at a
    random place, thin dark gaps; every board its own cut of wood and a shade of its own."""
    aspect, gap, variation = tex.value("aspect"), tex.value("gap"), tex.value("variation")
    s = g.split(p)
    row = g.math("FLOOR", s.outputs["Y"])
    stagger = g.node("ShaderNodeTexWhiteNoise", {"W": row}, noise_dimensions="1D").outputs["Value"]
    shifted = g.node(
        "ShaderNodeCombineXYZ", {"X": g.math("MULTIPLY_ADD", stagger, aspect, s.outputs["X"]), "Y": s.outputs["Y"]}
    ).outputs["Vector"]
    brick = _bricks(g, shifted, aspect, gap, mortar=0.0, smooth=0.3, offset=0.0)
    tint, joint = brick.outputs["Color"], brick.outputs["Fac"]
    board = g.node("ShaderNodeTexWhiteNoise", {"W": g.math("MULTIPLY", tint, 1000.0)}, noise_dimensions="1D")
    shade = g.node("ShaderNodeTexWhiteNoise", {"W": g.math("MULTIPLY", tint, 517.0)}, noise_dimensions="1D")
    cut = g.vmath("MULTIPLY", board.outputs["Color"], (997.0, 40.0, 24.0))
    wood = _wood_rings(g, g.vmath("MULTIPLY_ADD", p, (RINGS_PER_BOARD,) * 3, cut), tex, base, color2)
    k = g.split(shade.outputs["Color"])
    color = g.hsv(
        wood.color,
        hue=g.math("MULTIPLY_ADD", k.outputs["X"], 0.04 * variation, 0.5 - 0.02 * variation),
        saturation=g.math("MULTIPLY_ADD", k.outputs["Y"], 0.5 * variation, 1.0 - 0.25 * variation),
        value=g.math("MULTIPLY_ADD", k.outputs["Z"], 0.7 * variation, 1.0 - 0.35 * variation),
    )
    color = g.mix(color, (0.1, 0.1, 0.1, 1.0), joint, "RGBA", "MULTIPLY")
    height = g.math("MULTIPLY", g.math("SUBTRACT", 1.0, joint), g.math("MULTIPLY_ADD", wood.height, 0.25, 0.75))
    return _Surface(color, height, g.math("MAXIMUM", joint, g.math("MULTIPLY", wood.roughness, 0.5)))


def _bricks(
    g: _Graph, vector: Socket, aspect: float, gap: float, mortar: float, smooth: float, **layout: Any
) -> bpy.types.Node:
    """A brick texture node of rows one unit high and ``aspect`` long with joints ``gap`` wide:
    Color is a per-brick random grey (tint), Fac the joint mask; ``layout`` sets the row offset."""
    return g.node(
        "ShaderNodeTexBrick",
        {
            "Vector": vector,
            "Color1": (0.0, 0.0, 0.0, 1.0),
            "Color2": (1.0, 1.0, 1.0, 1.0),
            "Mortar": (mortar, mortar, mortar, 1.0),
            "Scale": 1.0,
            "Mortar Size": gap / 2,
            "Mortar Smooth": smooth,
            "Bias": 0.0,
            "Brick Width": aspect,
            "Row Height": 1.0,
        },
        **layout,
    )


def _tiles(g: _Graph, p: Socket, tex: TextureSpec, base: RGBA, color2: RGBA) -> _Surface:
    """Tiles one unit high and ``aspect`` units long (longer ones laid in running bond), grout of
    ``color2`` ``gap`` units wide, each tile a slightly different shade with a mottled glaze."""
    aspect, gap, variation = tex.value("aspect"), tex.value("gap"), tex.value("variation")
    brick = _bricks(g, p, aspect, gap, mortar=0.5, smooth=0.2, offset=0.5 if aspect > 1.0 else 0.0, offset_frequency=2)
    tint, grout = brick.outputs["Color"], brick.outputs["Fac"]
    glaze = g.noise(p, (3.0, 3.0, 3.0), 3.0)
    c = float(tex.contrast if tex.contrast is not None else mp.TEXTURE_CONTRAST_DEFAULT)
    value = g.math("MULTIPLY_ADD", tint, 0.6 * variation, 1.0 - 0.3 * variation)
    value = g.math("MULTIPLY", value, g.math("MULTIPLY_ADD", glaze, 0.2 * c, 1.0 - 0.1 * c))
    tile = g.hsv(base, saturation=g.math("MULTIPLY_ADD", tint, 0.3 * variation, 1.0 - 0.15 * variation), value=value)
    color = g.mix(tile, color2, grout, "RGBA")
    return _Surface(color, g.math("SUBTRACT", 1.0, grout), grout)


def _marble(g: _Graph, p: Socket, tex: TextureSpec, base: RGBA, color2: RGBA) -> _Surface:
    """Veins: the crests of strongly noise-distorted bands, through a sharp ramp; a finer second
    network and a cloudy ground. ``p`` in main-vein spacings."""
    main = g.wave(p, "BANDS", "X", "SIN", distortion=11.0, detail=6.0, detail_scale=0.7, detail_roughness=0.62)
    veins = g.map(main, 0.985, 1.0)
    fine_p = g.vmath("MULTIPLY_ADD", p, (1.9, 1.9, 1.9), (13.0, 7.0, 3.0))
    fine = g.map(g.wave(fine_p, "BANDS", "Y", "SIN", distortion=16.0, detail=8.0, detail_roughness=0.65), 0.99, 1.0)
    cloud = g.noise(p, (0.9, 0.9, 0.9), 5.0)
    c = float(tex.contrast if tex.contrast is not None else mp.TEXTURE_CONTRAST_DEFAULT)
    ground = g.hsv(base, value=g.math("MULTIPLY_ADD", cloud, 0.2 * c, 1.0 - 0.1 * c))
    color = g.mix(ground, color2, g.math("MULTIPLY", veins, 0.85 * c), "RGBA")
    color = g.mix(color, color2, g.math("MULTIPLY", fine, 0.5 * c), "RGBA")
    return _Surface(color, g.math("MAXIMUM", veins, fine), g.math("SUBTRACT", g.math("MULTIPLY", veins, 2.0), 1.0))


def _laminate(g: _Graph, p: Socket, tex: TextureSpec, base: RGBA, color2: RGBA) -> _Surface:
    """Fine speckle and a faint streaky grain along u, at low contrast. ``p`` in speckles."""
    speckle = g.map(g.noise(p, (1.0, 1.0, 1.0), 1.0), 0.42, 0.72)
    grain = g.map(g.noise(p, (0.04, 0.8, 0.8), 3.0), 0.35, 0.75)
    c = float(tex.contrast if tex.contrast is not None else mp.TEXTURE_CONTRAST_DEFAULT)
    fac = g.math("MULTIPLY", g.math("ADD", speckle, grain), 0.5 * c)
    return _Surface(g.mix(base, color2, fac, "RGBA"), speckle, g.math("MULTIPLY_ADD", speckle, 2.0, -1.0))


def _fabric(g: _Graph, p: Socket, tex: TextureSpec, base: RGBA, color2: RGBA) -> _Surface:
    """A plain weave: warp threads along u (``base``) and weft threads along v (``color2``), each
    crossing showing the one on top, threads of uneven thickness, shadowed between threads."""
    warp = g.wave(p, "BANDS", "Y", "SIN")
    weft = g.wave(p, "BANDS", "X", "SIN")
    over = g.node(
        "ShaderNodeTexChecker",
        {"Vector": p, "Color1": (1.0, 1.0, 1.0, 1.0), "Color2": (0.0, 0.0, 0.0, 1.0), "Scale": 1.0},
    ).outputs["Fac"]
    height = g.mix(weft, warp, over)
    slub = g.mix(g.noise(p, (0.9, 0.015, 0.0), 2.0), g.noise(p, (0.015, 0.9, 0.0), 2.0), over)
    c = float(tex.contrast if tex.contrast is not None else mp.TEXTURE_CONTRAST_DEFAULT)
    color = g.mix(base, color2, g.math("MULTIPLY", over, c), "RGBA")
    shadow = g.math("MULTIPLY", g.math("MULTIPLY_ADD", height, 0.35, 0.65), g.math("MULTIPLY_ADD", slub, 0.4, 0.8))
    return _Surface(g.hsv(color, value=shadow), height, None)


def _brushed(g: _Graph, p: Socket, tex: TextureSpec, base: RGBA, color2: RGBA) -> _Surface:
    """Brushed metal: fine streaks and uneven coarse strokes, both stretched along u, driving
    roughness, a faint darkening and a shallow relief. ``p`` in streak widths."""
    fine = g.noise(p, (0.01, 1.0, 1.0), 4.0)
    coarse = g.noise(p, (0.0008, 0.04, 0.04), 3.0)
    tone = g.math("MULTIPLY", g.math("ADD", fine, coarse), 0.5)
    c = float(tex.contrast if tex.contrast is not None else mp.TEXTURE_CONTRAST_DEFAULT)
    color = g.mix(base, color2, g.math("MULTIPLY", g.map(tone, 0.3, 0.7), c), "RGBA")
    # roughness follows mostly the coarse strokes: fine streaks in the highlight read as stripes
    strokes = g.math("MULTIPLY_ADD", fine, 0.3, g.math("MULTIPLY", coarse, 0.7))
    return _Surface(color, fine, g.math("MULTIPLY_ADD", strokes, 2.0, -1.0))


def _plastic(g: _Graph, p: Socket, tex: TextureSpec, base: RGBA, color2: RGBA) -> _Surface:
    """Moulded plastic: an orange-peel relief of ``p``-sized dimples, sparse speckles of
    ``color2`` (recycled plastic, at ``contrast``) and a slow change of roughness (handling)."""
    peel = g.noise(p, (1.0, 1.0, 1.0), 1.0)
    speckle = g.map(g.noise(p, (0.45, 0.45, 0.45), 0.0), 0.66, 0.72)
    wear = g.noise(p, (0.003, 0.003, 0.003), 2.0)
    c = float(tex.contrast if tex.contrast is not None else mp.TEXTURE_CONTRAST_DEFAULT)
    color = g.mix(base, color2, g.math("MULTIPLY", speckle, c), "RGBA")
    return _Surface(color, peel, g.math("MULTIPLY_ADD", wear, 3.0, -1.5))


def _image(g: _Graph, p: Socket, tex: TextureSpec, base: RGBA, color2: RGBA) -> _Surface:
    """A user's image, one tile per pattern unit, repeated; its brightness drives the relief."""
    assert tex.image is not None
    check_image(tex.image, "texture.image")
    node = g.node("ShaderNodeTexImage", {"Vector": p}, projection="FLAT", extension="REPEAT", interpolation="Linear")
    node.image = load_image(tex.image, "texture image", "/".join(mp.IMAGE_SUFFIXES), "texture.image")
    color = node.outputs["Color"]
    return _Surface(color, g.node("ShaderNodeRGBToBW", {"Color": color}).outputs["Val"], None)


Builder = Callable[[_Graph, Socket, TextureSpec, RGBA, RGBA], _Surface]
SURFACE_BUILDERS: dict[str, Builder] = {
    "wood": _wood,
    "planks": _planks,
    "marble": _marble,
    "laminate": _laminate,
    "fabric": _fabric,
    "brushed": _brushed,
    "tiles": _tiles,
    "plastic": _plastic,
    "image": _image,
}
# Depth of the relief at height 1 (metres): what the Bump node's Distance gets, per kind.
RELIEF_M: dict[str, float] = {
    "wood": 0.0003,
    "planks": 0.0015,
    "marble": 0.0002,
    "laminate": 0.0001,
    "fabric": 0.0008,
    "brushed": 0.00005,
    "tiles": 0.002,
    "plastic": 0.0005,
    "image": 0.0005,
}
LEGACY_RELIEF_M = 0.001


# ---------------------------------------------------------------------------------------------
# Legacy patterns: one Blender texture node and its 0..1 output.


def _checker(nodes) -> tuple[bpy.types.Node, str]:
    node = nodes.new("ShaderNodeTexChecker")
    node.inputs["Color1"].default_value = (1, 1, 1, 1)
    node.inputs["Color2"].default_value = (0, 0, 0, 1)
    return node, "Fac"


def _brick(nodes) -> tuple[bpy.types.Node, str]:
    node = nodes.new("ShaderNodeTexBrick")
    node.inputs["Color1"].default_value = (1, 1, 1, 1)
    node.inputs["Color2"].default_value = (0.7, 0.7, 0.7, 1)
    node.inputs["Mortar"].default_value = (0, 0, 0, 1)
    return node, "Color"


def _wave(nodes) -> tuple[bpy.types.Node, str]:
    node = nodes.new("ShaderNodeTexWave")
    node.inputs["Distortion"].default_value = 4.0
    node.inputs["Detail"].default_value = 3.0
    return node, "Fac"


def _voronoi(nodes) -> tuple[bpy.types.Node, str]:
    return nodes.new("ShaderNodeTexVoronoi"), "Distance"


def _noise(detail: float) -> Callable[[bpy.types.Nodes], tuple[bpy.types.Node, str]]:
    def build(nodes) -> tuple[bpy.types.Node, str]:
        node = nodes.new("ShaderNodeTexNoise")
        node.inputs["Detail"].default_value = detail
        return node, "Fac"

    return build


# Texture kind -> a builder of its pattern node and the name of its 0..1 output. Musgrave was
# merged into the noise node in Blender 4.1: more detail gives the fractal look.
TEXTURE_NODES: dict[str, Callable[[bpy.types.Nodes], tuple[bpy.types.Node, str]]] = {
    "checker": _checker,
    "brick": _brick,
    "wave": _wave,
    "voronoi": _voronoi,
    "noise": _noise(3.0),
    "musgrave": _noise(6.0),
}
assert set(TEXTURE_NODES) | set(SURFACE_BUILDERS) == set(mp.TEXTURE_KINDS) - {"none"}, "a builder per kind"
assert set(SURFACE_BUILDERS) == set(mp.SURFACE_KINDS) == set(RELIEF_M)


def _legacy_surface(g: _Graph, texture: TextureSpec, base: RGBA) -> _Surface:
    """The pattern in object coordinates times ``scale`` (moved by ``offset`` pattern units and
    turned about z when those are set), mixing the base colour with ``color2``."""
    nodes, links = g.nodes, g.links
    coords = nodes.new("ShaderNodeTexCoord").outputs["Object"]
    scale = texture.pattern_scale()
    offset, turn = texture.offset, texture.value("rotation_deg")
    if (offset is not None and any(offset)) or turn:
        location = tuple(v / scale for v in offset or (0.0, 0.0, 0.0))
        rotation = (0.0, 0.0, math.radians(turn))
        coords = g.node("ShaderNodeMapping", {"Vector": coords, "Location": location, "Rotation": rotation})
        coords = coords.outputs["Vector"]
    node, output = TEXTURE_NODES[texture.type](nodes)
    node.inputs["Scale"].default_value = scale
    links.new(coords, node.inputs["Vector"])
    contrast = nodes.new("ShaderNodeMapRange")
    c = float(texture.contrast if texture.contrast is not None else mp.TEXTURE_CONTRAST_DEFAULT)
    contrast.inputs["To Min"].default_value = 0.5 - 0.5 * c
    contrast.inputs["To Max"].default_value = 0.5 + 0.5 * c
    links.new(node.outputs[output], contrast.inputs["Value"])
    mix = nodes.new("ShaderNodeMix")
    mix.data_type = "RGBA"
    mix.inputs["A"].default_value = base
    mix.inputs["B"].default_value = _rgba(texture.color2 or mp.TEXTURE_COLOR2_DEFAULT)
    links.new(contrast.outputs["Result"], mix.inputs["Factor"])
    factor = node.outputs[output]
    varies = texture.value("roughness_variation") > 0  # no node more than before the field existed
    return _Surface(mix.outputs["Result"], factor, g.math("MULTIPLY_ADD", factor, 2.0, -1.0) if varies else None)


# Kinds whose ``variation`` is a shade per board or tile; in the others it is a slow, blotchy
# change of tone across the surface (uneven dye, wear, dirt), patches about BLOTCH_M across.
PER_PIECE_KINDS = ("planks", "tiles", "image")
BLOTCH_M = 0.3


def _blotches(g: _Graph, faces: _Faces, texture: TextureSpec, surface: _Surface, variation: float) -> _Surface:
    start = tuple(v * 0.37 for v in texture.offset or (0.0, 0.0, 0.0))
    p = g.vmath("MULTIPLY_ADD", faces.uvw, (1 / BLOTCH_M,) * 3, start)
    tone = g.map(g.noise(p, detail=3.0), 0.3, 0.7, (1.0 - 0.5 * variation, 1.0 + 0.3 * variation))
    return _Surface(g.hsv(surface.color, value=tone), surface.height, surface.roughness)


def _tangent(g: _Graph, faces: _Faces, turn_deg: float) -> Socket:
    """The world-space direction of the pattern's u axis on each face (brushing, anisotropy)."""
    c, s = math.cos(math.radians(turn_deg)), math.sin(math.radians(turn_deg))
    along = ((faces.along_z, (c, -s, 0.0)), (faces.along_y, (c, 0.0, -s)), (faces.along_x, (0.0, c, -s)))
    direction = None
    for weight, vector in along:
        term = g.vmath("SCALE", vector, scale=weight)
        direction = term if direction is None else g.vmath("ADD", direction, term)
    node = g.node("ShaderNodeVectorTransform", {"Vector": direction}, vector_type="VECTOR")
    node.convert_from, node.convert_to = "OBJECT", "WORLD"
    return node.outputs["Vector"]


def _apply_texture(g: _Graph, bsdf: bpy.types.Node, params: PrincipledParams, texture: TextureSpec, base: RGBA):
    """Colour, relief, roughness variation (and the anisotropy's direction) from the texture."""
    if texture.type in SURFACE_BUILDERS:
        faces = _box_projection(g)
        scale = texture.pattern_scale()
        mapping = g.node(
            "ShaderNodeMapping",
            {
                "Vector": faces.uvw,
                "Location": tuple(texture.offset or (0.0, 0.0, 0.0)),
                "Rotation": (0.0, 0.0, math.radians(texture.value("rotation_deg"))),
                "Scale": (scale, scale, scale),
            },
        )
        color2 = _rgba(texture.color2 or mp.TEXTURE_COLOR2_DEFAULT)
        surface = SURFACE_BUILDERS[texture.type](g, mapping.outputs["Vector"], texture, base, color2)
        relief = RELIEF_M[texture.type]
        variation = texture.value("variation")
        if texture.type not in PER_PIECE_KINDS and variation > 0:
            surface = _blotches(g, faces, texture, surface, variation)
        if params.anisotropic > 0:
            g.set(bsdf.inputs["Tangent"], _tangent(g, faces, texture.value("rotation_deg")))
    else:
        surface = _legacy_surface(g, texture, base)
        relief = LEGACY_RELIEF_M
    g.set(bsdf.inputs[mp.BASE_COLOR_SOCKET], surface.color)
    bump = texture.value("bump")
    if bump > 0 and surface.height is not None:
        node = g.node("ShaderNodeBump", {"Strength": bump, "Distance": relief, "Height": surface.height})
        g.set(bsdf.inputs["Normal"], node.outputs["Normal"])
    variation = texture.value("roughness_variation")
    if variation > 0 and surface.roughness is not None:
        rough = g.math("MULTIPLY_ADD", surface.roughness, variation, params.roughness, clamp=True)
        g.set(bsdf.inputs[mp.SOCKETS["roughness"]], rough)


def set_principled_inputs(bsdf: bpy.types.Node, values: dict[str, float | tuple[float, ...]]) -> None:
    """Set Principled BSDF inputs by their parameter names (``base_color`` as linear RGB)."""
    for name, value in values.items():
        socket = bsdf.inputs[mp.SOCKETS[name]]
        socket.default_value = _rgba(value) if name == "base_color" else float(value)


def new_principled_material(name: str, values: dict[str, float | tuple[float, ...]]) -> bpy.types.Material:
    """A material whose Principled BSDF has ``values`` (parameter names) and defaults elsewhere."""
    material = bpy.data.materials.new(name)
    material.use_nodes = True
    set_principled_inputs(material.node_tree.nodes["Principled BSDF"], values)
    return material


def build_material(name: str, spec: MaterialSpec) -> bpy.types.Material:
    """A new Cycles material for a sampled material spec."""
    params = spec.params
    if not isinstance(params, PrincipledParams):
        raise TypeError(f"{name}: material {spec.class_name}/{spec.preset} has no Principled parameters")
    values = params.model_dump()
    base = _rgba(values.pop("base_color"))
    material = new_principled_material(name, values)
    bsdf = material.node_tree.nodes["Principled BSDF"]
    if spec.texture.type == "none":
        bsdf.inputs[mp.BASE_COLOR_SOCKET].default_value = base
    else:
        _apply_texture(_Graph(material.node_tree), bsdf, params, spec.texture, base)
    return material


LIQUID_SUBSURFACE_SCALE = 0.002  # metres: how far light wanders below a scattering liquid's surface


def build_liquid_material(name: str, liquid: LiquidSpec) -> bpy.types.Material:
    """A liquid: a smooth dielectric of the liquid's IOR that absorbs inside (Volume Absorption:
    ``density`` per metre at the complement of ``color``); ``scatter`` of it scatters below the
    surface instead of transmitting (milk)."""
    material = new_principled_material(
        name,
        {
            "base_color": tuple(liquid.color) if liquid.scatter > 0 else (1.0, 1.0, 1.0),
            "roughness": 0.0,
            "ior": liquid.ior,
            "transmission": 1.0 - liquid.scatter,
        },
    )
    tree = material.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    bsdf.inputs["Subsurface Weight"].default_value = liquid.scatter
    bsdf.inputs["Subsurface Scale"].default_value = LIQUID_SUBSURFACE_SCALE
    if liquid.density > 0 and liquid.scatter < 1:
        absorption = tree.nodes.new("ShaderNodeVolumeAbsorption")
        absorption.inputs["Color"].default_value = _rgba(liquid.color)
        absorption.inputs["Density"].default_value = liquid.density
        tree.links.new(absorption.outputs["Volume"], tree.nodes["Material Output"].inputs["Volume"])
    return material
