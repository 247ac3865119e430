"""Which scored assets to keep: the K best (``keep_top``) or those at or above a threshold."""

from __future__ import annotations

from transphy3d.scene.asset_bank import AssetRecord

DEFAULT_THRESHOLD = 0.5  # kept: scored at least this, unless the K best are asked for


def select(records: list[AssetRecord], keep_top: int | None = None, threshold: float | None = None) -> set[str]:
    """Asset ids to keep. Assets without a score (malformed, partial without the needed fields,
    errors, not yet asked) are never kept. Ties in ``keep_top`` go to the smaller asset id."""
    scored = [(r.verdict.score, r.asset_id) for r in records if r.verdict is not None and r.verdict.score is not None]
    if keep_top is not None:
        ranked = sorted(scored, key=lambda item: (-item[0], item[1]))
        return {asset_id for _, asset_id in ranked[:keep_top]}
    limit = DEFAULT_THRESHOLD if threshold is None else threshold
    return {asset_id for value, asset_id in scored if value >= limit}
