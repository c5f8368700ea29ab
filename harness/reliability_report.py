"""Render the reliability summary from ``kind == "reliability"`` records."""

from __future__ import annotations

from collections import defaultdict


def render(records: list[dict]) -> str | None:
    """Return the markdown summary, or None when no reliability records exist."""
    rows = [r for r in records if r.get("kind") == "reliability"]
    if not rows:
        return None
    by_category: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_category[r.get("category", "?")].append(r)
    crashes = sum(1 for r in rows if r.get("status") == "crash")
    wrong = sum(1 for r in rows if r.get("status") not in ("pass", "xfail"))
    lines = [
        "# Reliability",
        "",
        f"Rendered by `harness report` from {len(rows)} reliability records. Each row is a bad "
        "input or a failure-isolation check; `pass` means it ended in the declared error "
        "(or, for isolation, in a recorded crash that did not stop the run).",
        "",
        f"**{len(rows)} checks, {crashes} crashes of the harness process, "
        f"{wrong} not handled as declared.**",
        "",
        "| category | checks | handled as declared | outcomes seen |",
        "|---|---|---|---|",
    ]
    for category, rs in sorted(by_category.items()):
        ok = sum(1 for r in rs if r.get("status") == "pass")
        outcomes = sorted({r.get("outcome", "") for r in rs})
        lines.append(f"| {category} | {len(rs)} | {ok} | {', '.join(outcomes)[:300]} |")
    return "\n".join(lines) + "\n"
