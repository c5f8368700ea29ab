"""Render the op list and the model table from result records alone."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

from harness.io import atomic_write_bytes
from harness.results import ResultStore

REPORTS = Path(__file__).resolve().parent.parent / "reports"
FAILED = ("mismatch", "error", "crash")


def _ranges(numbers) -> str:
    numbers = sorted(set(numbers))
    if not numbers:
        return "-"
    parts, start, prev = [], numbers[0], numbers[0]
    for n in numbers[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


def _num(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("inf")


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.2g}"


def _short_provider(p: str) -> str:
    return p.replace("ExecutionProvider", "")


_OP_CLAIM = (
    "an op is listed as verified only when a record shows ONNX Runtime matching Paddle for it"
)


def _header(title: str, records: list[dict], claim: str = _OP_CLAIM) -> list[str]:
    runs = sorted({r.get("run", "?") for r in records})
    versions = records[-1].get("versions", {}) if records else {}
    pkgs = ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
    return [
        f"# {title}",
        "",
        f"Rendered by `harness report` from {len(records)} verification records "
        f"(run{'s' if len(runs) != 1 else ''} {', '.join(runs) or '-'}) on "
        f"{time.strftime('%Y-%m-%d')}. Nothing here is written by hand: {claim}.",
        "",
        f"Versions: {pkgs or '-'}.",
        "",
    ]


def _complete(records: list[dict]) -> list[dict]:
    """Keep the records that name what ran and how it ended (others are not evidence)."""
    return [r for r in records if r.get("target") and r.get("case") and r.get("status")]


def render_op_list(records: list[dict]) -> str:
    from harness.export import registry

    ops = _complete([r for r in records if r.get("kind") == "op"])
    by_op: dict[str, list[dict]] = defaultdict(list)
    for r in ops:
        by_op[r["target"]].append(r)
    verified, failing, xfails = [], [], []
    for op, rs in sorted(by_op.items()):
        expected = [r for r in rs if r.get("expected_failure")]
        real = [r for r in rs if not r.get("expected_failure")]
        passed = [r for r in real if r["status"] == "pass"]
        bad = [r for r in real if r["status"] in FAILED]
        if passed:
            verified.append(_op_row(op, real, passed, bad))
        if bad:
            worst = max(bad, key=lambda r: r.get("time", 0))
            failing.append(
                f"| `{op}` | {worst['case']} | {len(bad)} | {_cell(worst.get('reason', ''))} |"
            )
        for case in sorted({r["case"] for r in expected}):
            rs_case = [r for r in expected if r["case"] == case]
            xpass = all(r["status"] == "pass" for r in rs_case)
            seen = "passed (the xfail is stale)" if xpass else "fails as declared"
            xfails.append(
                f"| `{op}` | {case} | {_cell(rs_case[0]['expected_failure'])} | {seen} |"
            )
    lines = _header("Supported Paddle ops", ops)
    lines += [
        f"**{len(verified)} ops verified.**",
        "",
        "| Paddle op | Paddle API | ONNX ops | opsets verified | dtypes | dynamic shapes | "
        "providers | examples passed / failed | worst max abs err | worst max rel err |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *verified,
    ]
    if xfails:
        lines += [
            "",
            "## Expected failures",
            "",
            "Declared gaps: the case runs and must fail; its reason is the known limitation.",
            "",
            "| Paddle op | case | reason | seen |",
            "|---|---|---|---|",
            *xfails,
        ]
    if failing:
        lines += [
            "",
            "## Failing",
            "",
            "| Paddle op | case | failed records | last reason |",
            "|---|---|---|---|",
            *failing,
        ]
    unverified = sorted(set(registry()) - {op for op in by_op})
    if unverified:
        lines += [
            "",
            "## Registered but not verified in these records",
            "",
            ", ".join(f"`{op}`" for op in unverified),
        ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")[:300]


def _op_row(op: str, real: list[dict], passed: list[dict], bad: list[dict]) -> str:
    api = sorted({r.get("paddle_api", "") for r in passed if r.get("paddle_api")})
    onnx_ops = sorted({o for r in passed for o in r.get("onnx_ops") or ()})
    opsets = [r["opset"] for r in passed if r.get("opset") is not None]
    dtypes = sorted({d for r in passed for d in r.get("dtypes", ())})
    dynamic = "yes" if any(r.get("dynamic") for r in passed) else "static only"
    providers = sorted({_short_provider(r.get("provider", "")) for r in passed})
    worst_abs = max((_num(r.get("max_abs")) for r in passed), default=None)
    worst_rel = max((_num(r.get("max_rel")) for r in passed), default=None)
    return (
        f"| `{op}` | {_cell('; '.join(api))} | {', '.join(onnx_ops) or '(none: folded)'} | "
        f"{_ranges(opsets)} | {', '.join(dtypes)} | {dynamic} | {', '.join(providers)} | "
        f"{len(passed)} / {len(bad)} | {_fmt(worst_abs)} | {_fmt(worst_rel)} |"
    )


_MODEL_CLAIM = (
    "a model passes only when a record shows ONNX Runtime matching Paddle on every output "
    "at every input set listed"
)


def render_models(records: list[dict]) -> str:
    models = _complete([r for r in records if r.get("kind") == "model"])
    latest: dict[tuple, dict] = {}
    for r in models:
        # The case is part of the key: a CLI export of a file named like a model case is
        # another row, not a newer run of that case.
        latest[(r["target"], r.get("case", ""), r.get("provider", ""))] = r
    rows = [r for _, r in sorted(latest.items())]
    declared = [r for r in rows if r.get("expected_failure")]
    passed = [r for r in rows if r["status"] == "pass" and not r.get("expected_failure")]
    failing = [r for r in rows if r["status"] in FAILED and not r.get("expected_failure")]
    lines = _header("Models", models, _MODEL_CLAIM)
    lines += [
        f"**{len(passed)} of {len(rows)} model exports pass; {len(declared)} expected "
        f"failure{'s' if len(declared) != 1 else ''}; {len(failing)} failing.**",
        "",
        "| model | source | status | opset | dynamic | input shapes | Paddle ops | ONNX nodes "
        "| max abs err | max rel err | tolerance (atol, rtol) | provider | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['target']} | {r.get('paddle_api', '')} | {_cell(_model_status(r))} | "
            f"{r.get('opset', '-')} | {'yes' if r.get('dynamic') else 'no'} | "
            f"{_shapes(r.get('input_shapes'))} | {r.get('paddle_ops', '-')} | "
            f"{r.get('onnx_nodes', '-')} | {_metric(r.get('max_abs'))} | "
            f"{_metric(r.get('max_rel'))} | {_tolerances(r.get('tolerances'))} | "
            f"{_short_provider(r.get('provider', '')) or '-'} | {_seconds(r.get('seconds'))} |"
        )
    lines += [
        "",
        "An element matches when |got - want| <= atol + rtol * |want|. The max rel err is "
        "taken over elements with |want| > atol, so a near-zero logit can make it large "
        "while every element is within the bound.",
    ]
    return "\n".join(lines) + "\n"


def _model_status(r: dict) -> str:
    reason = r.get("expected_failure")
    if reason:
        return (
            f"xpass (stale xfail): {reason}" if r["status"] == "pass" else f"xfail: {reason}"
        )
    if r["status"] in FAILED and r.get("reason"):
        return f"{r['status']}: {r['reason']}"
    return r["status"]


def _shapes(sets) -> str:
    """Render input sets as ``1x3x224x224; 3x3x224x224`` (inputs of one set by commas)."""
    if not sets:
        return "-"
    return "; ".join(
        ", ".join("x".join(str(d) for d in shape) or "scalar" for shape in one) for one in sets
    )


def _metric(x) -> str:
    # Records without metrics (an export that failed, an expected failure) show a dash.
    return "-" if x is None else _fmt(_num(x))


def _tolerances(tols) -> str:
    if not tols:
        return "-"
    return "; ".join(f"{d}: {a:g}, {r:g}" for d, (a, r) in sorted(tols.items()))


def _seconds(x) -> str:
    return "-" if x is None else f"{_num(x):.2f}"


def render_all(store: ResultStore | None = None, out: Path | None = None) -> dict[str, Path]:
    """Render every table from the records in ``store`` into ``out``; return what was written."""
    store = store or ResultStore()
    out = Path(out) if out is not None else REPORTS
    records = store.read()
    written = {}
    for name, text in (
        ("op_list.md", render_op_list(records)),
        ("models.md", render_models(records)),
    ):
        atomic_write_bytes(out / name, text.encode())
        written[name] = out / name
    from harness import reliability_report

    extra = reliability_report.render(records)
    if extra is not None:
        atomic_write_bytes(out / "reliability.md", extra.encode())
        written["reliability.md"] = out / "reliability.md"
    return written
