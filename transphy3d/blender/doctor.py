"""What this machine's Blender can do, for ``transphy3d doctor``: the bpy version, each Cycles GPU
backend checked with the probe render the renderer uses, the denoisers and the bundled HDRIs. Run as
``python -m transphy3d.blender.doctor``; prints one JSON object per line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import bpy

from transphy3d.blender.lighting import bundled_hdri_path
from transphy3d.blender.session import GPU_ORDER, captured_output, reset, select_device
from transphy3d.scene.spec import BUNDLED_HDRIS


def checks() -> list[dict]:
    """One record per check: ``name``, ``ok`` (True, False, or None when only informative), ``detail``."""
    out = [{"name": "bpy", "ok": True, "detail": bpy.app.version_string}]
    import _cycles  # Blender's Cycles module: importable only once bpy is

    scene = reset()
    working = []
    for kind in GPU_ORDER:
        device = select_device(scene, kind)
        if device.type == kind:
            working.append(kind)
            out.append({"name": f"Cycles {kind}", "ok": True, "detail": ", ".join(device.names)})
        else:
            reason = device.fallback[-1].split(": ", 1)[-1] if device.fallback else "not available"
            out.append({"name": f"Cycles {kind}", "ok": None, "detail": reason})
    cpu = select_device(scene, "CPU")
    out.append({"name": "Cycles CPU", "ok": True, "detail": ", ".join(cpu.names)})
    out.append(
        {
            "name": "denoiser OpenImageDenoise",
            "ok": bool(_cycles.with_openimagedenoise),
            "detail": "built in" if _cycles.with_openimagedenoise else "missing from this Blender build",
        }
    )
    optix = "OPTIX" in working
    out.append(
        {
            "name": "denoiser OptiX",
            "ok": True if optix else None,
            "detail": "on the OptiX device" if optix else "needs an NVIDIA GPU",
        }
    )
    missing = [name for name in BUNDLED_HDRIS if not Path(bundled_hdri_path(name)).is_file()]
    out.append(
        {
            "name": "bundled HDRIs",
            "ok": not missing,
            "detail": f"missing from this Blender: {', '.join(missing)}" if missing else ", ".join(BUNDLED_HDRIS),
        }
    )
    return out


def main() -> int:
    with captured_output("/dev/null"):  # Blender's own console output
        records = checks()
    for record in records:
        print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
