"""A model server that answers HTTP 200 with something that is not a verdict (plain text, JSON of
the wrong types, a body of the wrong shape): each such answer is a failed request, counted and
reported with exit code 1, and every earlier verdict and kept flag stays as it was."""

from __future__ import annotations

import json

import pytest
from helpers import run_cli
from test_assets_http import Server, reply
from test_assets_vlm import make_bank

from transphy3d.scene.asset_bank import Verdict, read_manifest, write_manifest

WRONG_TYPES = {"transparent": [1], "reflective": {"a": 1}, "material_class": 7, "category": None, "confidence": "x"}
ANSWERS = {
    "text": {"choices": [{"message": {"content": "I cannot see any image."}}]},
    "wrong types": {"choices": [{"message": {"content": json.dumps(WRONG_TYPES)}}]},
    "content not text": {"choices": [{"message": {"content": {"transparent": "maybe"}}}]},
}


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_rescore_keeps_every_verdict_when_answers_are_not_verdicts(answer: str, tmp_path) -> None:
    manifest = make_bank(tmp_path, count=4, views=1)
    curated = Verdict(status="ok", transparent=True, reflective=False, material_class="glass", category="cup",
                      confidence=0.9, score=0.9, backend="curated", model="human")  # fmt: skip
    doubtful = curated.model_copy(update={"confidence": 0.2, "score": 0.2})
    records = [r.model_copy(update={"verdict": curated, "kept": True}) for r in read_manifest(manifest)]
    records[-1] = records[-1].model_copy(update={"verdict": doubtful, "kept": False})
    write_manifest(manifest, records)
    before = manifest.read_bytes()
    server = Server(lambda h, s: reply(h, 200, ANSWERS[answer]))
    try:
        result = run_cli("assets", "filter", "--manifest", str(manifest), "--backend", "openai", "--endpoint",
                         server.url, "--model", "m", "--rescore", "--timeout", "5", "--no-ray")  # fmt: skip
    finally:
        server.close()
    assert result.returncode == 1, result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and "4 of 4 requests failed" in errors[0] and "not a verdict" in errors[0], errors
    assert "earlier verdict keep it" in errors[0]
    assert manifest.read_bytes() == before


def test_a_first_answer_that_is_not_a_verdict_is_recorded_and_fails(tmp_path) -> None:
    """Without an earlier verdict the text is kept (``malformed``, ``raw``) for a look; the run
    still says that its requests failed."""
    manifest = make_bank(tmp_path, count=2, views=1)
    server = Server(lambda h, s: reply(h, 200, ANSWERS["text"]))
    try:
        result = run_cli("assets", "filter", "--manifest", str(manifest), "--backend", "openai", "--endpoint",
                         server.url, "--model", "m", "--timeout", "5", "--no-ray")  # fmt: skip
    finally:
        server.close()
    assert result.returncode == 1 and "2 of 2 requests failed" in result.stderr, result.stderr
    verdicts = [r.verdict for r in read_manifest(manifest)]
    assert all(v.status == "malformed" and v.raw == "I cannot see any image." for v in verdicts)
