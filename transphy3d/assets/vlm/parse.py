"""Parsing a model's answer into a Verdict, robustly and without guessing: the first JSON object
in the text is read (code fences and chatter around it are fine); each field is taken only when it
has the expected type and range, otherwise it stays null and is listed as missing. Text without a
JSON object is ``malformed`` and kept verbatim in ``raw``."""

from __future__ import annotations

import json
import math
from typing import Any

from transphy3d.assets.vlm.prompt import FIELDS, MATERIAL_CLASSES
from transphy3d.scene.asset_bank import Verdict

BOOL_WORDS = {"true": True, "false": False, "yes": True, "no": False}
RAW_LIMIT = 2000


def first_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text``, or None."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return BOOL_WORDS.get(value.strip().lower())
    return None


def _confidence(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None


def _text(value: Any) -> str | None:
    return value.strip()[:80] if isinstance(value, str) and value.strip() else None


def score(transparent: bool | None, reflective: bool | None, confidence: float | None) -> float | None:
    """How strongly an answer says "transparent or reflective": the confidence when either is
    true, 0 when both are false, None when that cannot be told (missing fields)."""
    if confidence is None:
        return None
    if transparent or reflective:
        return confidence
    if transparent is False and reflective is False:
        return 0.0
    return None


def parse_answer(text: str, backend: str, model: str) -> Verdict:
    """A Verdict from a model's raw answer text."""
    data = first_json_object(text)
    if data is None:
        return Verdict(status="malformed", raw=text[:RAW_LIMIT], missing=list(FIELDS), backend=backend, model=model)
    material = data.get("material_class")
    material = material.strip().lower() if isinstance(material, str) else None
    fields = {
        "transparent": _bool(data.get("transparent")),
        "reflective": _bool(data.get("reflective")),
        "material_class": material if material in MATERIAL_CLASSES else None,
        "category": _text(data.get("category")),
        "confidence": _confidence(data.get("confidence")),
    }
    missing = [name for name in FIELDS if fields[name] is None]
    if len(missing) == len(FIELDS):
        return Verdict(status="malformed", raw=text[:RAW_LIMIT], missing=missing, backend=backend, model=model)
    return Verdict(
        status="ok" if not missing else "partial",
        **fields,
        score=score(fields["transparent"], fields["reflective"], fields["confidence"]),
        missing=missing,
        raw=None if not missing else text[:RAW_LIMIT],
        backend=backend,
        model=model,
    )


def error_verdict(error: str, backend: str, model: str) -> Verdict:
    """A failed request: retried on the next run."""
    return Verdict(status="error", error=error[:500], missing=list(FIELDS), backend=backend, model=model)
