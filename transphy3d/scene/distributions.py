"""Distributions written in YAML, with their allowed range checked at load time.

A sampled value in a scene config is either a constant or a one-key mapping:

```yaml
radius: 0.5                           # constant
radius: {uniform: [0.4, 0.8]}         # uniform on [lo, hi]
radius: {log_uniform: [0.1, 1.0]}     # uniform in log space
radius: {normal: [0.5, 0.1], clip: [0.2, 0.8]}
count: {randint: [2, 6]}              # integer, both ends included
family: {choice: [bottle, mug], weights: [2, 1]}
```
Every draw takes an explicit ``numpy.random.Generator``.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, PlainSerializer, model_validator

from transphy3d.documents import FrozenModel

KINDS = ("uniform", "log_uniform", "normal", "randint", "choice")


@dataclass(frozen=True)
class Distribution:
    """A parsed distribution; ``sample(rng)`` draws one value."""

    kind: str  # "constant" or one of KINDS
    args: tuple[Any, ...]
    weights: tuple[float, ...] | None = None
    clip: tuple[float, float] | None = None

    def sample(self, rng: np.random.Generator) -> Any:
        if self.kind == "constant":
            return self.args[0]
        if self.kind == "uniform":
            return float(rng.uniform(self.args[0], self.args[1]))
        if self.kind == "log_uniform":
            return float(math.exp(rng.uniform(math.log(self.args[0]), math.log(self.args[1]))))
        if self.kind == "normal":
            value = float(rng.normal(self.args[0], self.args[1]))
            return float(np.clip(value, *self.clip)) if self.clip else value
        if self.kind == "randint":
            return int(rng.integers(self.args[0], self.args[1], endpoint=True))
        if self.kind == "choice":
            p = None
            if self.weights is not None:
                w = np.asarray(self.weights, dtype=np.float64)
                p = w / w.sum()
            return self.args[int(rng.choice(len(self.args), p=p))]
        raise AssertionError(self.kind)

    def support(self) -> tuple[float, float] | None:
        """(min, max) of numeric values this distribution can produce, None for non-numeric."""
        if self.kind == "constant":
            v = self.args[0]
            return (v, v) if _is_number(v) else None
        if self.kind in ("uniform", "log_uniform", "randint"):
            return (self.args[0], self.args[1])
        if self.kind == "normal":
            return self.clip if self.clip else (-math.inf, math.inf)
        if self.kind == "choice":
            if all(_is_number(a) for a in self.args):
                return (min(self.args), max(self.args))
            return None
        raise AssertionError(self.kind)

    def values(self) -> tuple[Any, ...]:
        """Every value a constant or choice can produce (for checks of names)."""
        if self.kind == "constant":
            return (self.args[0],)
        if self.kind == "choice":
            return self.args
        return ()

    def to_yaml(self) -> Any:
        if self.kind == "constant":
            return self.args[0]
        out: dict[str, Any] = {self.kind: list(self.args)}
        if self.weights is not None:
            out["weights"] = list(self.weights)
        if self.clip is not None:
            out["clip"] = list(self.clip)
        return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _pair(kind: str, value: Any) -> tuple[float, float]:
    if not (isinstance(value, Sequence) and len(value) == 2 and all(_is_number(v) for v in value)):
        raise ValueError(f"{kind} takes two numbers [low, high], got {value!r}")
    return (value[0], value[1])


def parse_distribution(raw: Any) -> Distribution:
    """Parse the YAML form of a distribution (see the module docstring)."""
    if isinstance(raw, Distribution):
        return raw
    if not isinstance(raw, dict):
        return Distribution("constant", (raw,))
    kinds = [k for k in raw if k in KINDS]
    extra = set(raw) - set(KINDS) - {"weights", "clip"}
    if len(kinds) != 1 or extra:
        raise ValueError(
            f"a distribution is a constant or a mapping with exactly one of {', '.join(KINDS)} "
            f"(plus 'weights' for choice, 'clip' for normal); got keys {sorted(raw)}"
        )
    kind = kinds[0]
    value = raw[kind]
    if kind == "choice":
        if not isinstance(value, list) or not value:
            raise ValueError(f"choice takes a non-empty list, got {value!r}")
        weights = raw.get("weights")
        if weights is not None:
            if (
                not isinstance(weights, list)
                or len(weights) != len(value)
                or not all(_is_number(w) and w >= 0 for w in weights)
                or sum(weights) <= 0
            ):
                raise ValueError(f"weights must be {len(value)} non-negative numbers with a positive sum")
            weights = tuple(float(w) for w in weights)
        if "clip" in raw:
            raise ValueError("'clip' applies to normal only")
        return Distribution("choice", tuple(value), weights=weights)
    if "weights" in raw:
        raise ValueError("'weights' applies to choice only")
    lo, hi = _pair(kind, value)
    if kind == "normal":
        if hi < 0:
            raise ValueError(f"normal: standard deviation must be >= 0, got {hi}")
        clip = _pair("clip", raw["clip"]) if "clip" in raw else None
        if clip and clip[0] > clip[1]:
            raise ValueError(f"clip: low {clip[0]} > high {clip[1]}")
        return Distribution("normal", (lo, hi), clip=clip)
    if "clip" in raw:
        raise ValueError("'clip' applies to normal only")
    if lo > hi:
        raise ValueError(f"{kind}: low {lo} > high {hi}")
    if kind == "log_uniform" and lo <= 0:
        raise ValueError(f"log_uniform needs low > 0, got {lo}")
    if kind == "randint" and not all(isinstance(v, int) for v in (lo, hi)):
        raise ValueError(f"randint takes two integers, got {value!r}")
    return Distribution(kind, (lo, hi))


def _range_text(ge: float | None, le: float | None, gt: float | None, lt: float | None) -> str:
    low = f">= {ge}" if ge is not None else (f"> {gt}" if gt is not None else "")
    high = f"<= {le}" if le is not None else (f"< {lt}" if lt is not None else "")
    return " and ".join(p for p in (low, high) if p) or "any number"


def dist(
    *,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
    integer: bool = False,
    allowed: Sequence[Any] | None = None,
    strings: bool = False,
) -> Any:
    """A pydantic field type for a distribution whose values must lie in the given range (or
    among ``allowed`` values)."""

    def validate(raw: Any) -> Distribution:
        d = parse_distribution(raw)
        if strings:
            values = d.values()
            if d.kind not in ("constant", "choice") or not all(isinstance(v, str) and v for v in values):
                raise ValueError(f"expected a name or {{choice: [names...]}}, got {raw!r}")
            return d
        if allowed is not None:
            bad = [v for v in (d.values() if d.kind in ("constant", "choice") else (None,)) if v not in allowed]
            if d.kind not in ("constant", "choice") or bad:
                raise ValueError(
                    f"value {bad[0] if bad else raw!r} not allowed; allowed: {', '.join(map(str, allowed))}"
                )
            return d
        support = d.support()
        if support is None:
            raise ValueError(f"expected numbers, got {raw!r}")
        if integer and d.kind not in ("constant", "choice", "randint"):
            raise ValueError(f"expected an integer or randint/choice of integers, got {d.kind}")
        if integer and not all(isinstance(v, int) for v in (d.values() or support)):
            raise ValueError(f"expected integers, got {raw!r}")
        lo, hi = support
        ok = (
            (ge is None or lo >= ge)
            and (gt is None or lo > gt)
            and (le is None or hi <= le)
            and (lt is None or hi < lt)
        )
        if not ok:
            shown = f"value {lo}" if lo == hi else f"values {lo}..{hi}"
            raise ValueError(f"{shown} out of range; allowed: {_range_text(ge, le, gt, lt)}")
        return d

    return Annotated[Distribution, BeforeValidator(validate), PlainSerializer(lambda d: d.to_yaml())]


class ColorDist(FrozenModel):
    """A colour: constant linear RGB ``[r, g, b]`` or a uniform draw in HSV."""

    rgb: tuple[float, float, float] | None = None
    hsv: tuple[tuple[float, float], tuple[float, float], tuple[float, float]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, raw: Any) -> Any:
        if isinstance(raw, list | tuple):
            return {"rgb": raw}
        return raw

    @model_validator(mode="after")
    def _check(self) -> ColorDist:
        if (self.rgb is None) == (self.hsv is None):
            raise ValueError("a colour is [r, g, b] or {hsv: [[h_lo, h_hi], [s_lo, s_hi], [v_lo, v_hi]]}")
        values = self.rgb or [v for pair in self.hsv for v in pair]  # type: ignore[union-attr]
        if any(not 0.0 <= v <= 1.0 for v in values):
            raise ValueError(f"colour components must lie in [0, 1], got {values}")
        return self

    def sample(self, rng: np.random.Generator) -> list[float]:
        """Linear RGB: the constant, or a uniform draw in HSV."""
        if self.rgb is not None:
            return [float(c) for c in self.rgb]
        (h0, h1), (s0, s1), (v0, v1) = self.hsv  # type: ignore[misc]
        h, s, v = rng.uniform(h0, h1), rng.uniform(s0, s1), rng.uniform(v0, v1)
        return [float(c) for c in colorsys.hsv_to_rgb(h, s, v)]
