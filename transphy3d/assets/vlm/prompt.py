"""What the filter asks about an asset, and the JSON answer it expects."""

from __future__ import annotations

MATERIAL_CLASSES = ("glass", "plastic", "metal", "ceramic", "other")
FIELDS = ("transparent", "reflective", "material_class", "category", "confidence")

PROMPT = (
    "These images show one 3D object from several viewpoints. Is the object (or most of it) made of "
    "a transparent material such as glass or clear plastic, or of a reflective material such as "
    "polished metal or glazed ceramic? Answer with one JSON object and nothing else, with the keys: "
    '"transparent" (true or false), "reflective" (true or false), "material_class" (one of '
    + ", ".join(f'"{c}"' for c in MATERIAL_CLASSES)
    + '), "category" (a short noun for what the object is, e.g. "bottle"), "confidence" (a number '
    "from 0 to 1: how sure you are about transparent and reflective)."
)

JSON_SCHEMA = {
    "type": "object",
    "properties": {
        "transparent": {"type": "boolean"},
        "reflective": {"type": "boolean"},
        "material_class": {"type": "string", "enum": list(MATERIAL_CLASSES)},
        "category": {"type": "string"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": list(FIELDS),
    "additionalProperties": False,
}
