"""Render the reliability summary from ``kind == "reliability"`` records.

A record is one check of ``tests/reliability``: a bad input, an isolated crash, an
interruption, a fuzzed program. Its ``status`` is "pass" (it ended as declared),
"crash" (a native crash reached the harness) or "wrong" (it ended some other way).
"""

from __future__ import annotations

import time
from collections import defaultdict


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")[:240]


def latest_checks(records: list[dict]) -> list[dict]:
    """Return the newest record of each check (category, case), oldest first.

    Records of several runs accumulate in one store; each check counts once, as it
    last ended.
    """
    latest: dict[tuple, dict] = {}
    for r in sorted(records, key=lambda r: r.get("time", 0)):
        if r.get("kind") == "reliability":
            latest[(r.get("category", "?"), r.get("case", "?"))] = r
    return list(latest.values())


def render(records: list[dict]) -> str | None:
    """Return the markdown summary, or None when no reliability records exist."""
    rows = latest_checks(records)
    if not rows:
        return None
    by_category: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_category[r.get("category", "?")].append(r)
    bad = sum(1 for r in rows if r.get("bad_input"))
    crashes = [r for r in rows if r.get("status") == "crash"]
    wrong = [r for r in rows if r.get("status") not in ("pass", "crash")]
    runs = sorted({r.get("run", "?") for r in rows})
    lines = [
        "# Reliability",
        "",
        f"Rendered by `harness report` on {time.strftime('%Y-%m-%d')} from the latest record "
        f"of each of {len(rows)} checks of `tests/reliability` (run"
        f"{'s' if len(runs) != 1 else ''} {', '.join(runs)}). A check passes when it ends "
        "as declared: a bad input in its documented error, a crash inside an isolated "
        "case as that case's recorded result, an interrupted write with nothing lost.",
        "",
        f"**{bad} bad inputs tried, {len(crashes)} crashes, "
        f"{len(wrong)} checks not ended as declared.**",
        "",
        "| category | checks | as declared | crashes | outcomes seen |",
        "|---|---|---|---|---|",
    ]
    for category, rs in sorted(by_category.items()):
        ok = sum(1 for r in rs if r.get("status") == "pass")
        crashed = sum(1 for r in rs if r.get("status") == "crash")
        outcomes = sorted({_kind(r.get("outcome", "")) for r in rs})
        lines.append(
            f"| {category} | {len(rs)} | {ok} | {crashed} | {_cell(', '.join(outcomes))} |"
        )
    if crashes or wrong:
        lines += [
            "",
            "## Not ended as declared",
            "",
            "| category | check | declared | outcome |",
            "|---|---|---|---|",
        ]
        for r in crashes + wrong:
            lines.append(
                f"| {r.get('category', '?')} | {_cell(r.get('case', '?'))} | "
                f"{_cell(r.get('declared', ''))} | {_cell(r.get('outcome', ''))} |"
            )
    return "\n".join(lines) + "\n"


def _kind(outcome: str) -> str:
    """Shorten an outcome to its kind: 'raised ModelFileError', 'crashed with SIGSEGV'."""
    text = str(outcome)
    for prefix, words in (("raised ", 2), ("crashed with ", 3), ("timed out", 2)):
        if text.startswith(prefix):
            return " ".join(text.split(":", 1)[0].split()[:words])
    return "returned" if text == "returned" else "checked"
