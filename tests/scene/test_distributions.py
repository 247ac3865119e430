"""``transphy3d.scene.distributions``: every kind draws within its support with the right
statistics, round-trips through YAML, and malformed or out-of-range forms are refused with a
message saying what is allowed; colours as constants or HSV draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from transphy3d.documents import StrictModel
from transphy3d.scene.distributions import ColorDist, Distribution, dist, parse_distribution


def _draws(raw, n: int = 4000, seed: int = 0) -> list:
    d = parse_distribution(raw)
    rng = np.random.default_rng(seed)
    return [d.sample(rng) for _ in range(n)]


def test_a_constant_is_itself() -> None:
    d = parse_distribution(0.25)
    assert d == Distribution("constant", (0.25,)) and d.sample(np.random.default_rng(0)) == 0.25
    assert d.support() == (0.25, 0.25) and d.values() == (0.25,) and d.to_yaml() == 0.25
    assert parse_distribution("mug").support() is None and parse_distribution(d) is d


def test_uniform_covers_its_range_evenly() -> None:
    values = np.array(_draws({"uniform": [0.4, 0.8]}))
    assert values.min() >= 0.4 and values.max() <= 0.8
    assert values.mean() == pytest.approx(0.6, abs=0.01) and np.mean(values < 0.5) == pytest.approx(0.25, abs=0.02)


def test_log_uniform_is_even_in_log_space() -> None:
    values = np.array(_draws({"log_uniform": [0.1, 10.0]}))
    assert values.min() >= 0.1 and values.max() <= 10.0
    assert np.median(values) == pytest.approx(1.0, rel=0.1)  # the geometric mean
    assert np.mean(values < 0.1 * math.sqrt(10)) == pytest.approx(0.25, abs=0.02)


def test_normal_is_clipped_when_asked() -> None:
    values = np.array(_draws({"normal": [0.5, 0.1], "clip": [0.45, 0.7]}))
    assert values.min() == 0.45 and values.max() <= 0.7
    assert np.mean(values == 0.45) == pytest.approx(0.3085, abs=0.02)  # P(z < -0.5)
    free = np.array(_draws({"normal": [0.5, 0.1]}))
    assert free.std() == pytest.approx(0.1, rel=0.05) and parse_distribution({"normal": [0, 1]}).support() == (
        -math.inf,
        math.inf,
    )


def test_randint_includes_both_ends() -> None:
    values = _draws({"randint": [2, 4]}, n=3000)
    assert sorted(set(values)) == [2, 3, 4] and all(isinstance(v, int) for v in values)
    assert values.count(4) / 3000 == pytest.approx(1 / 3, abs=0.03)


def test_choice_follows_its_weights() -> None:
    values = _draws({"choice": ["bottle", "mug", "vase"], "weights": [2, 1, 0]}, n=3000)
    assert values.count("bottle") / 3000 == pytest.approx(2 / 3, abs=0.03) and "vase" not in values
    d = parse_distribution({"choice": [1, 5, 3]})
    assert d.support() == (1, 5) and d.values() == (1, 5, 3)
    assert parse_distribution({"choice": ["a", 1]}).support() is None


def test_draws_depend_only_on_the_generator() -> None:
    assert _draws({"uniform": [0, 1]}, n=5, seed=3) == _draws({"uniform": [0, 1]}, n=5, seed=3)
    assert _draws({"uniform": [0, 1]}, n=5, seed=3) != _draws({"uniform": [0, 1]}, n=5, seed=4)


@pytest.mark.parametrize(
    "raw",
    [
        {"uniform": [0.4, 0.8]},
        {"log_uniform": [0.1, 1.0]},
        {"normal": [0.5, 0.1], "clip": [0.2, 0.8]},
        {"randint": [2, 6]},
        {"choice": ["bottle", "mug"], "weights": [2.0, 1.0]},
        "mug",
    ],
)
def test_the_yaml_form_round_trips(raw) -> None:
    d = parse_distribution(raw)
    assert d.to_yaml() == raw and parse_distribution(d.to_yaml()) == d


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"uniform": [1, 0]}, "uniform: low 1 > high 0"),
        ({"uniform": [1]}, "uniform takes two numbers [low, high], got [1]"),
        ({"log_uniform": [0, 1]}, "log_uniform needs low > 0, got 0"),
        ({"randint": [1.5, 3]}, "randint takes two integers"),
        ({"normal": [0, -1]}, "standard deviation must be >= 0, got -1"),
        ({"normal": [0, 1], "clip": [2, 1]}, "clip: low 2 > high 1"),
        ({"uniform": [0, 1], "clip": [0, 1]}, "'clip' applies to normal only"),
        ({"uniform": [0, 1], "weights": [1]}, "'weights' applies to choice only"),
        ({"choice": []}, "choice takes a non-empty list"),
        ({"choice": ["a", "b"], "weights": [1]}, "weights must be 2 non-negative numbers with a positive sum"),
        ({"choice": ["a", "b"], "weights": [0, 0]}, "weights must be 2 non-negative numbers with a positive sum"),
        ({"uniform": [0, 1], "randint": [0, 1]}, "exactly one of uniform, log_uniform, normal, randint, choice"),
        ({"gauss": [0, 1]}, "got keys ['gauss']"),
    ],
)
def test_malformed_forms_say_what_is_allowed(raw, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_distribution(raw)
    assert message in str(error.value)


class Ranged(StrictModel):
    radius: dist(gt=0, le=2) = parse_distribution(1.0)
    count: dist(ge=1, integer=True) = parse_distribution(1)
    kind: dist(allowed=("glass", "metal")) = parse_distribution("glass")
    family: dist(strings=True) = parse_distribution("mug")


def test_a_field_checks_the_whole_support() -> None:
    model = Ranged(radius={"uniform": [0.5, 2.0]}, count={"randint": [1, 4]}, kind={"choice": ["metal"]})
    assert model.radius.support() == (0.5, 2.0) and model.model_dump()["count"] == {"randint": [1, 4]}
    for raw, message in [
        ({"radius": {"uniform": [0, 1]}}, "values 0..1 out of range; allowed: > 0 and <= 2"),
        ({"radius": 3}, "value 3 out of range; allowed: > 0 and <= 2"),
        ({"radius": {"normal": [1, 0.1]}}, "values -inf..inf out of range"),
        ({"radius": "big"}, "expected numbers, got 'big'"),
        ({"count": {"uniform": [1, 3]}}, "expected an integer or randint/choice of integers, got uniform"),
        ({"count": 1.5}, "expected integers, got 1.5"),
        ({"kind": {"choice": ["glass", "wood"]}}, "value 'wood' not allowed; allowed: glass, metal"),
        ({"kind": {"uniform": [0, 1]}}, "not allowed; allowed: glass, metal"),
        ({"family": {"choice": ["mug", 3]}}, "expected a name or {choice: [names...]}"),
    ]:
        with pytest.raises(ValidationError) as error:
            Ranged(**raw)
        assert message in str(error.value), (raw, str(error.value))


def test_colours_are_constants_or_hsv_draws() -> None:
    assert ColorDist.model_validate([0.1, 0.2, 0.3]).sample(np.random.default_rng(0)) == [0.1, 0.2, 0.3]
    red = ColorDist.model_validate({"hsv": [[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]]})
    assert red.sample(np.random.default_rng(0)) == [0.5, 0.0, 0.0]
    greys = ColorDist.model_validate({"hsv": [[0.0, 1.0], [0.0, 0.0], [0.2, 0.4]]})
    rng = np.random.default_rng(1)
    for r, g, b in (greys.sample(rng) for _ in range(50)):
        assert r == g == b and 0.2 <= r <= 0.4
    for raw, message in [
        ([0.1, 1.2, 0.3], "colour components must lie in [0, 1]"),
        ({"rgb": [0.1, 0.1, 0.1], "hsv": [[0, 1], [0, 1], [0, 1]]}, "a colour is [r, g, b] or {hsv:"),
        ({}, "a colour is [r, g, b] or {hsv:"),
    ]:
        with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("{", r"\{")):
            ColorDist.model_validate(raw)
