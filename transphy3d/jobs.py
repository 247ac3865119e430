"""The typed render job: what the farm's worker, the warm render server and ``render-scene`` hand
the renderer (``transphy3d.pipeline.run``). The farm passes it to a render process as JSON
(``render-scene --job JSON``, or one line to a warm server), never as a hand-built command line."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from transphy3d.documents import StrictModel
from transphy3d.errors import UserError
from transphy3d.scene.spec import Device


class RenderJob(StrictModel):
    """One scene to render into ``out``: from a scene config (sampled with ``seed``) or a recorded
    scene.yaml."""

    scene: str  # a shipped config's name, a config path or a recorded scene.yaml
    out: str  # the scene directory to write
    seed: int | None = Field(None, ge=0)  # for sampling a config (default 0)
    overrides: list[str] = Field(default_factory=list)  # "KEY.PATH=VALUE", VALUE as YAML (render-scene --set)
    overwrite: bool = False  # replace an existing scene directory
    quiet: bool = False  # no progress bar or warnings
    log: str | None = None  # where Blender's log goes if the render fails (default: OUT.log)
    device: Device | None = None  # default: the config's render.device
    threads: int | None = Field(None, ge=0)  # default: the config's render.threads; 0 = all
    lease: str | None = None  # the farm's lease: stop, leaving nothing behind, once it is gone
    allow_outside_assets: bool = False  # a recorded scene may load meshes outside its folder and the banks

    def to_line(self) -> str:
        """The job as one line of JSON."""
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def from_line(cls, line: str) -> RenderJob:
        """A job from its JSON line; a malformed one is a one-line UserError."""
        try:
            return cls.model_validate_json(line)
        except ValidationError as error:
            raise _one_line(error, "render job: ") from None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> RenderJob:
        """A job from ``render-scene``'s parsed options (the flags are the fields' names)."""
        try:
            return cls(**{name: options[name] for name in cls.model_fields if options.get(name) is not None})
        except ValidationError as error:
            raise _one_line(error, "--") from None


def _one_line(error: ValidationError, prefix: str) -> UserError:
    first = error.errors(include_url=False)[0]
    field = ".".join(map(str, first["loc"])) or "job"
    return UserError(f"{first['msg']} (got {first.get('input')!r})", field=f"{prefix}{field}")
