"""Compare the records of a run with a baseline run: what got fixed, what broke.

The nightly sweep keeps the records folder of its last good run as the baseline;
``harness report --baseline DIR`` renders ``reports/changes.md`` from the two.
"""

from __future__ import annotations

from collections import defaultdict

FAILED = ("mismatch", "error", "crash")


def _key(r: dict) -> tuple:
    return (r.get("kind"), r.get("case"), r.get("opset"), r.get("provider") or "")


def outcomes(records: list[dict]) -> dict[tuple, str]:
    """Summarise records per (kind, case, opset, provider): 'fail' if any failed, else 'pass'.

    Expected failures count as 'xfail'; records that were not run are ignored.
    """
    seen: dict[tuple, set[str]] = defaultdict(set)
    for r in records:
        if r.get("status") == "not_run":
            continue
        status = r.get("status")
        if r.get("expected_failure"):
            seen[_key(r)].add("xfail")
        elif status in FAILED:
            seen[_key(r)].add("fail")
        elif status == "pass":
            seen[_key(r)].add("pass")
    return {
        k: ("xfail" if "xfail" in v else "fail" if "fail" in v else "pass")
        for k, v in seen.items()
    }


def diff(baseline: list[dict], current: list[dict]) -> dict[str, list[tuple]]:
    """Return the keys that broke, got fixed, are new, or are gone."""
    old, new = outcomes(baseline), outcomes(current)
    changes: dict[str, list[tuple]] = {"broke": [], "fixed": [], "new": [], "gone": []}
    for key, status in sorted(new.items(), key=lambda kv: str(kv[0])):
        before = old.get(key)
        if before is None:
            changes["new"].append((*key, status))
        elif before == "pass" and status == "fail":
            changes["broke"].append((*key, status))
        elif before == "fail" and status == "pass":
            changes["fixed"].append((*key, status))
    for key in sorted(set(old) - set(new), key=str):
        changes["gone"].append((*key, old[key]))
    return changes


def render(baseline: list[dict], current: list[dict]) -> str:
    changes = diff(baseline, current)
    lines = [
        "# Changes against the baseline",
        "",
        f"Rendered by `harness report --baseline` from {len(baseline)} baseline records and "
        f"{len(current)} current records. A key is one case at one opset on one provider.",
        "",
        "| change | keys |",
        "|---|---|",
        *(f"| {name} | {len(rows)} |" for name, rows in changes.items()),
    ]
    for name in ("broke", "fixed", "new", "gone"):
        rows = changes[name]
        if not rows or name in ("new", "gone") and len(rows) > 200:
            continue
        lines += [
            "",
            f"## {name}",
            "",
            "| kind | case | opset | provider | now |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {k} | {c} | {o} | {p.replace('ExecutionProvider', '')} | {s} |"
            for k, c, o, p, s in rows
        ]
    return "\n".join(lines) + "\n"
