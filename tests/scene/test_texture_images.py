"""Users' own texture images (``environment.textures``): a folder resolved like every config path,
an ``image`` texture that records the image's absolute path and its scale, the same spec for the
same seed, and one-line errors for a missing folder, an empty one and an image that does not
decode, naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import CONFIGS, one_line_error, run_cli
from PIL import Image

from transphy3d.errors import UnreadableFileError, UserError
from transphy3d.scene import material_params as mp
from transphy3d.scene.config_loader import config_digest, load_config, parse_overrides
from transphy3d.scene.sampling import sample_spec
from transphy3d.scene.spec import SceneSpec, spec_to_yaml
from transphy3d.scene.texture_images import check_image

KEY = "environment.textures.directory"


def images(folder: Path, count: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        pixels = np.full((8, 8, 3), 40 * i + 30, dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"tex_{i}.{('png', 'jpg')[i % 2]}")
    (folder / "notes.txt").write_text("not an image")
    return folder


def spec(seed: int = 0, *overrides: str, config: Path = CONFIGS / "default.yaml") -> SceneSpec:
    return sample_spec(load_config(config, parse_overrides(list(overrides))), seed)


def surface_textures(s: SceneSpec) -> dict[str, object]:
    parts = {p.name: p.material.texture for p in s.environment.parts}
    if s.environment.room is not None:
        parts["room"] = s.environment.room.material.texture
    return parts


def test_every_surface_can_wear_a_users_image(tmp_path: Path) -> None:
    folder = images(tmp_path / "textures")
    files = {str(p.resolve()) for p in folder.glob("tex_*")}
    for seed, kind in ((0, "tabletop"), (1, "container")):
        s = spec(seed, f"{KEY}={folder}", "environment.textures.probability=1", f"environment.type={kind}",
                 "environment.room.probability=1")  # fmt: skip
        textures = surface_textures(s)
        assert len(textures) >= 3
        for texture in textures.values():
            assert texture.type == "image" and texture.image in files and Path(texture.image).is_absolute()
            assert 0.5 <= texture.scale <= 1.0 and texture.rotation_deg in mp.IMAGE_ROTATIONS_DEG
        # the preset's other parameters stay
        assert s.environment.parts[0].material.class_name == "floor"
    # probability 0 (or no folder): the presets' own textures, and the same spec as without the key
    none = spec(0, f"{KEY}={folder}", "environment.textures.probability=0")
    assert not any(t.type == "image" for t in surface_textures(none).values())
    assert spec_to_yaml(none).replace(none.config.digest, "") == spec_to_yaml(spec(0)).replace(
        spec(0).config.digest, ""
    )


def test_only_the_listed_surfaces_and_the_same_seed_gives_the_same_images(tmp_path: Path) -> None:
    folder = images(tmp_path / "textures")
    args = (f"{KEY}={folder}", "environment.textures.probability=1", "environment.type=tabletop")
    s = spec(3, *args, "environment.textures.surfaces=[floor]")
    kinds = {name: t.type for name, t in surface_textures(s).items()}
    assert kinds["env_floor"] == "image" and kinds["env_table_top"] != "image"
    assert spec(3, *args) == spec(3, *args)
    # half the surfaces, drawn from each surface's own stream: some seeds differ in which
    half = [spec(seed, f"{KEY}={folder}", "environment.type=tabletop") for seed in range(8)]
    floors = [surface_textures(h)["env_floor"].type == "image" for h in half]
    assert 0 < sum(floors) < 8


def test_the_folder_is_relative_to_the_config_that_sets_it(tmp_path: Path) -> None:
    images(tmp_path / "mine" / "tex")
    config = tmp_path / "mine" / "scene.yaml"
    config.write_text(
        f"base: {CONFIGS / 'default.yaml'}\nenvironment:\n  textures: {{directory: tex, probability: 1.0}}\n"
    )
    s = sample_spec(load_config(config), 0)
    assert surface_textures(s)["env_floor"].image.startswith(str((tmp_path / "mine" / "tex").resolve()))
    # the folder counts in the config's digest; configs without one keep theirs
    assert config_digest(load_config(config)) != config_digest(load_config(CONFIGS / "default.yaml"))
    unused = load_config(CONFIGS / "default.yaml", {"environment.textures.probability": 0.9})
    assert config_digest(unused) == config_digest(load_config(CONFIGS / "default.yaml"))


def test_missing_and_empty_folders_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=rf"^--set {KEY}: texture folder {tmp_path}/nope not found$"):
        spec(0, f"{KEY}={tmp_path / 'nope'}")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("no images here")
    config = tmp_path / "c.yaml"
    config.write_text(f"base: {CONFIGS / 'default.yaml'}\nenvironment: {{textures: {{directory: empty}}}}\n")
    with pytest.raises(UserError, match=rf"^{config}: {KEY}: no .png/.jpg/.jpeg/.exr images in the texture folder"):
        sample_spec(load_config(config), 0)


def test_an_image_that_does_not_decode_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "textures"
    folder.mkdir()
    good = np.zeros((16, 16, 3), dtype=np.uint8)
    Image.fromarray(good).save(folder / "a_good.png")
    data = (folder / "a_good.png").read_bytes()
    (folder / "b_truncated.png").write_bytes(data[: len(data) // 2])
    (folder / "c_noise.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "d_broken.exr").write_bytes(b"v/1\x01 broken")
    check_image(folder / "a_good.png", KEY)
    for name in ("b_truncated.png", "c_noise.jpg", "d_broken.exr"):
        with pytest.raises(UnreadableFileError, match=rf"^{folder / name}: {KEY}: not a readable image \(.+\)$"):
            check_image(folder / name, KEY)
    # while sampling: the surface that drew it names it
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "c_noise.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(UnreadableFileError, match=rf"{only_bad / 'c_noise.jpg'}: {KEY}: not a readable image"):
        spec(0, f"{KEY}={only_bad}", "environment.textures.probability=1")


def test_the_command_line_says_it_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "floor.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    args = ("--set", f"{KEY}={tmp_path / 'bad'}", "--set", "environment.textures.probability=1")
    one_line_error(run_cli("sample", "tiny", *args), str(tmp_path / "bad" / "floor.jpg"), KEY, "not a readable image")
