"""The VLM filter, pure Python: answer parsing, scoring and selection, image sizes."""

from __future__ import annotations

from helpers import REPO

from transphy3d.assets.vlm.parse import first_json_object, parse_answer
from transphy3d.assets.vlm.select import select
from transphy3d.assets.vlm.vision import smart_resize
from transphy3d.scene.asset_bank import Verdict, read_manifest

STARTER = REPO / "assets_manifest" / "starter.jsonl"
GOOD = '{"transparent": true, "reflective": false, "material_class": "glass", "category": "bottle", "confidence": 0.8}'


def parse(text: str) -> Verdict:
    return parse_answer(text, "transformers", "m")


def test_good_answers_parse_even_inside_chatter_and_fences() -> None:
    for text in (GOOD, f"```json\n{GOOD}\n```", f"Sure! Here it is: {GOOD} Hope that helps {{x}}"):
        v = parse(text)
        assert (v.status, v.transparent, v.reflective, v.material_class, v.category) == (
            "ok",
            True,
            False,
            "glass",
            "bottle",
        )
        assert v.confidence == 0.8 and v.score == 0.8 and v.raw is None and v.missing == []


def test_partial_answers_keep_what_is_valid_and_never_guess() -> None:
    v = parse('{"transparent": "yes", "reflective": 1, "material_class": "Crystal", "confidence": 80}')
    assert v.status == "partial"
    assert v.transparent is True  # "yes" is an unambiguous boolean word
    assert v.reflective is None and v.material_class is None and v.confidence is None and v.category is None
    assert set(v.missing) == {"reflective", "material_class", "category", "confidence"}
    assert v.score is None and v.raw is not None  # no confidence: not ranked
    v = parse('{"transparent": false, "reflective": false, "confidence": 0.9}')
    assert v.status == "partial" and v.score == 0.0  # both false: scored, at the bottom


def test_malformed_answers_are_recorded_verbatim() -> None:
    for text in ("I think it is glass.", '{"transparent": tru', "[1, 2]", '{"colour": "red"}', ""):
        v = parse(text)
        assert v.status == "malformed" and v.raw == text and v.score is None
        assert v.transparent is None and v.confidence is None
    assert first_json_object('x {"a": 1} {"b": 2}') == {"a": 1}


def records_with_scores(scores: dict[str, float | None]):
    base = read_manifest(STARTER)[0]
    out = []
    for asset_id, score in scores.items():
        verdict = None if score is None else Verdict(status="ok", score=score, backend="t", model="m")
        out.append(base.model_copy(update={"asset_id": asset_id, "verdict": verdict}))
    return out


def test_selection_by_top_k_and_threshold() -> None:
    records = records_with_scores({"a": 0.9, "b": 0.2, "c": 0.9, "d": None, "e": 0.6})
    assert select(records, keep_top=2) == {"a", "c"}
    assert select(records, keep_top=3) == {"a", "c", "e"}
    assert select(records, keep_top=10) == {"a", "b", "c", "e"}  # unscored never kept
    assert select(records, threshold=0.6) == {"a", "c", "e"}
    assert select(records) == {"a", "c", "e"}  # default threshold 0.5


def test_smart_resize_matches_qwen_rules() -> None:
    assert smart_resize(160, 160) == (168, 168)
    h, w = smart_resize(1000, 3000, max_pixels=256 * 28 * 28)
    assert h % 28 == 0 and w % 28 == 0 and h * w <= 256 * 28 * 28
    assert smart_resize(10, 10) == (56, 56)  # lifted to min_pixels
