"""``transphy3d preview``: a fast, low-cost look at what a scene config produces (contact sheet,
animation, ``.blend``). Everything here is pure Python except the render call, which goes
through ``transphy3d.blender.realise``."""
