"""How much liquid the default data holds, without rendering: sample N scenes of a config, run
their physics (Blender, no Cycles), pour, and count the scenes with a filled container and the
liquids' outcomes.

    python benchmarks/liquid_share.py --config default --scenes 40
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from transphy3d.blender.realise import settle_scene
from transphy3d.scene.config_loader import load_config
from transphy3d.scene.sampling import sample_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="default")
    parser.add_argument("--scenes", type=int, default=40)
    args = parser.parse_args()
    config = load_config(args.config)
    outcomes: Counter[str] = Counter()
    types: Counter[str] = Counter()
    with_liquid = containers = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.scenes):
            spec = settle_scene(sample_spec(config, seed), Path(tmp) / "physics.log")
            liquids = [o.liquid for o in spec.objects if o.liquid is not None]
            containers += sum(o.source.kind == "procedural" and o.liquid is not None for o in spec.objects)
            outcomes.update(liquid.outcome for liquid in liquids)
            types.update(liquid.type for liquid in liquids if liquid.outcome == "filled")
            with_liquid += any(o.filled for o in spec.objects)
    print(f"{args.config}: {args.scenes} scenes, {time.perf_counter() - start:.0f} s")
    print(f"scenes with a filled container: {with_liquid} ({with_liquid / args.scenes:.0%})")
    print(f"containers drawn to hold liquid: {containers}; outcomes: {dict(outcomes.most_common())}")
    print(f"filled, by type: {dict(types.most_common())}")


if __name__ == "__main__":
    main()
