"""The asset bank as scene sampling reads it: the manifest, the shipped starter bank, and static
assets in scene sampling (named streams; configs without static assets sample what they sampled
before)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import CONFIGS, REPO

from transphy3d.errors import UserError
from transphy3d.scene.asset_bank import read_manifest, write_manifest
from transphy3d.scene.config_loader import config_digest, load_config, parse_overrides
from transphy3d.scene.sampling import sample_spec
from transphy3d.scene.spec import spec_to_yaml

STARTER = REPO / "assets_manifest" / "starter.jsonl"


def test_manifest_round_trip_and_line_errors(tmp_path: Path) -> None:
    records = read_manifest(STARTER)
    assert len(records) >= 8 and all(r.kept and r.licence == "cc_zero" for r in records)
    path = tmp_path / "m.jsonl"
    write_manifest(path, reversed(records))
    assert read_manifest(path) == sorted(records, key=lambda r: r.asset_id)
    lines = path.read_text().splitlines()
    bad = json.loads(lines[1])
    bad["triangles"] = 0
    path.write_text("\n".join([lines[0], json.dumps(bad), "not json"]) + "\n")
    with pytest.raises(UserError, match=r"m\.jsonl:2: triangles"):
        read_manifest(path)
    path.write_text(lines[0] + "\nnot json\n")
    with pytest.raises(UserError, match=r"m\.jsonl:2: not JSON"):
        read_manifest(path)


def test_shipped_bank_is_small_and_licence_clean() -> None:
    folder = REPO / "assets_manifest"
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and "thumbs" not in p.parts)
    assert total < 2_000_000
    for record in read_manifest(STARTER):
        assert record.origin == "transphy3d-starter" and record.verdict.backend == "curated"
        for stored in (record.source.file, record.canonical.mesh):
            assert (folder / stored).is_file() and not Path(stored).is_absolute()


def spec(config: str, seed: int, *overrides: str):
    path = CONFIGS / f"{config}.yaml"
    return sample_spec(load_config(path, parse_overrides(list(overrides))), seed)


def test_configs_without_static_assets_ignore_the_static_keys() -> None:
    a = spec("default", 3, "objects.static_fraction=0")
    b = spec(
        "default", 3, "objects.static_fraction=0", "objects.asset_manifest=elsewhere.jsonl", "objects.static_size=0.5"
    )
    assert spec_to_yaml(a) == spec_to_yaml(b)
    overrides = parse_overrides(["objects.static_fraction=0"])
    assert config_digest(load_config(CONFIGS / "default.yaml", overrides)) == a.config.digest
    assert all(o.source.kind == "procedural" for o in a.objects)


def test_static_assets_are_sampled_from_named_streams() -> None:
    mixed = [spec("mixed", seed, "objects.count=8") for seed in range(4)]
    static = [o for s in mixed for o in s.objects if o.source.kind == "static"]
    procedural = [o for s in mixed for o in s.objects if o.source.kind == "procedural"]
    assert static and procedural
    ids = {r.asset_id for r in read_manifest(STARTER)}
    assert {o.source.asset_id for o in static} <= ids
    assert all(0.08 <= o.source.size <= 0.2 and o.source.sha256 for o in static)
    assert any(o.source.keep_materials and o.material.class_name == "asset" and o.source.blend for o in static)
    assert spec_to_yaml(spec("mixed", 2, "objects.count=8")) == spec_to_yaml(mixed[2])
    # The static draws do not move the camera, the lights or the environment.
    plain = spec("default", 2, "objects.count=8", "objects.static_fraction=0")
    assert (mixed[2].camera, mixed[2].lights, mixed[2].world) == (plain.camera, plain.lights, plain.world)
    # Objects that stay procedural are the same objects as without static assets (start poses
    # differ: they are placed among the others).
    for obj in mixed[2].objects:
        if obj.source.kind == "procedural":
            other = plain.objects[obj.instance_id - 1]
            assert obj.model_copy(update={"initial_pose": other.initial_pose}) == other
    # Every static object's mesh has the sampled size.
    from transphy3d.scene.meshes import object_mesh

    for obj in static[:4]:
        assert max(object_mesh(obj).extents) == pytest.approx(obj.source.size)


def test_static_assets_config_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"objects\.asset_manifest.*not found"):
        spec("default", 0, "objects.static_fraction=0.5", "objects.asset_manifest=missing.jsonl")
    with pytest.raises(UserError, match="needs an asset manifest"):
        spec("default", 0, "objects.static_fraction=0.5", "objects.asset_manifest=null")
    unkept = tmp_path / "m.jsonl"
    write_manifest(unkept, [r.model_copy(update={"kept": False}) for r in read_manifest(STARTER)])
    with pytest.raises(UserError, match="no kept assets"):
        spec("default", 0, "objects.static_fraction=0.5", f"objects.asset_manifest={unkept}")
    # ... unless the config allows unfiltered assets; a moved canonical mesh is named.
    shutil.copytree(REPO / "assets_manifest" / "cache", tmp_path / "cache")
    s = spec(
        "default",
        0,
        "objects.static_fraction=1.0",
        "objects.static_require_kept=false",
        f"objects.asset_manifest={unkept}",
    )
    assert all(o.source.kind == "static" for o in s.objects)
    shutil.rmtree(tmp_path / "cache")
    with pytest.raises(UserError, match="mesh file not found"):
        spec(
            "default",
            0,
            "objects.static_fraction=1.0",
            "objects.static_require_kept=false",
            f"objects.asset_manifest={unkept}",
        )
