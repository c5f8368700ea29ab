"""Command line: ``harness run``, ``harness export``, ``harness report``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("OMP_NUM_THREADS", "1")


class _Outcomes:
    """A pytest plugin counting outcomes, for the one-line summary."""

    def __init__(self):
        self.counts: dict[str, int] = {}

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            key = (
                "xfailed"
                if hasattr(report, "wasxfail") and report.outcome == "skipped"
                else ("xpassed" if hasattr(report, "wasxfail") else report.outcome)
            )
            self.counts[key] = self.counts.get(key, 0) + 1


def _case_dirs(models: bool) -> list[str]:
    import op_cases

    dirs = [_package_dir(op_cases)]
    if models:
        import model_cases

        dirs.append(_package_dir(model_cases))
    # The reliability group feeds reports/reliability.md; it ships with the repository,
    # not the package, so an installed harness runs without it.
    reliability = Path(__file__).resolve().parent.parent / "tests" / "reliability"
    if reliability.is_dir():
        dirs.append(str(reliability))
    return dirs


def _package_dir(package) -> str:
    # An editable install made before the package had an __init__.py keeps mapping it as
    # a namespace package, whose __file__ is None; __path__ is right either way.
    return str(Path(next(iter(package.__path__))))


def cmd_run(args) -> int:
    import pytest

    from harness.report import render_all
    from harness.results import ResultStore, run_id

    store = ResultStore(args.records)
    if not args.keep:
        store.clear()
    rid = run_id()
    pytest_args = [
        *_case_dirs(not args.no_models),
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "harness.pytest_plugin",
        f"--hypothesis-profile={args.profile}",
        f"--records={store.path}",
        f"--provider={args.provider}",
    ]
    if args.k:
        pytest_args += ["-k", args.k]
    if args.opset:
        pytest_args.append(f"--opset={args.opset}")
    # Nightly runs go over thousands of examples unattended: a native crash in one of
    # them must be that example's result, not the end of the run.
    if args.isolate or (args.profile == "nightly" and not args.no_isolate):
        pytest_args.append("--isolate")
    elif args.no_isolate:
        pytest_args.append("--no-isolate")
    if args.jobs and args.jobs > 1:
        pytest_args += ["-n", str(args.jobs)]
    pytest_args += args.pytest_args or []
    outcomes = _Outcomes()
    start = time.perf_counter()
    code = pytest.main(pytest_args, plugins=[outcomes])
    written = render_all(store, args.reports)
    records = store.read()
    ops = len(
        {
            r["target"]
            for r in records
            if r.get("kind") == "op"
            and r["status"] == "pass"
            and not r.get("expected_failure")
        }
    )
    counts = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.counts.items())) or "no cases"
    where = ", ".join(str(p) for p in written.values())
    crashes = sum(1 for r in records if r.get("status") == "crash")
    crashed = f", {crashes} crashed (isolated)" if crashes else ""
    print(
        f"harness run {rid} ({args.profile}): {counts} in {time.perf_counter() - start:.0f}s; "
        f"{len(records)} records, {ops} ops verified{crashed}; wrote {where}"
    )
    return int(code)


def cmd_export(args) -> int:
    from harness.api import export
    from harness.errors import HarnessError

    try:
        result = export(
            args.model,
            args.output,
            opset_version=args.opset,
            verify=not args.no_verify,
            providers=args.provider.split(","),
            tolerances=_tolerances(args),
            isolate=not args.no_isolate,
        )
    except HarnessError as e:
        print(f"harness export: {type(e).__name__}: {_one_line(str(e))}", file=sys.stderr)
        return 1
    _record_export(args, result)
    print(result.summary())
    return 0


def _one_line(message: str) -> str:
    """Fold a multi-line message (a list of unsupported ops) into one line for stderr."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if len(lines) <= 1:
        return message.strip()
    return lines[0] + " " + "; ".join(line.lstrip("- ") for line in lines[1:])


def _tolerances(args) -> dict | None:
    if args.atol is None and args.rtol is None:
        return None
    from harness.verify import MODEL_TOLERANCES

    default = MODEL_TOLERANCES["float32"]
    atol = default.atol if args.atol is None else args.atol
    rtol = default.rtol if args.rtol is None else args.rtol
    return {"float32": (atol, rtol)}


def _record_export(args, result) -> None:
    from harness.results import ResultStore, finite, versions

    store = ResultStore(args.records)
    for verdict in result.verdicts:
        store.append(
            {
                "kind": "model",
                "target": Path(args.model).name,
                "case": "cli-export",
                "paddle_api": str(args.model),
                "status": verdict.status,
                "opset": result.opset,
                "provider": verdict.provider,
                "max_abs": finite(verdict.max_abs),
                "max_rel": finite(verdict.max_rel),
                "mismatch": verdict.mismatch,
                "dynamic": result.dynamic,
                "input_shapes": list(verdict.input_shapes),
                "paddle_ops": result.paddle_ops,
                "onnx_nodes": result.onnx_nodes,
                "seconds": round(result.seconds, 3),
                "reason": verdict.reason,
                "versions": versions(),
                "expected_failure": None,
            }
        )


def cmd_report(args) -> int:
    from harness.report import render_all
    from harness.results import ResultStore

    store = ResultStore(args.records)
    written = render_all(store, args.reports)
    if args.baseline:
        written["changes.md"] = _render_changes(store, args)
    print(
        f"harness report: {len(store.read())} records -> "
        + ", ".join(str(p) for p in written.values())
    )
    return 0


def _render_changes(store, args) -> Path:
    from harness import diff
    from harness.io import atomic_write_bytes
    from harness.report import REPORTS
    from harness.results import ResultStore

    baseline = ResultStore(args.baseline)
    if not baseline.path.is_dir():
        raise SystemExit(f"harness report: no baseline records folder at {baseline.path}")
    target = Path(args.reports or REPORTS) / "changes.md"
    atomic_write_bytes(target, diff.render(baseline.read(), store.read()).encode())
    return target


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the op and model cases, write records and reports")
    run.add_argument("--profile", default="ci", choices=["ci", "dev", "nightly"])
    run.add_argument("-k", default=None, help="pytest -k expression selecting cases")
    run.add_argument("--opset", default=None, help="opsets: '13', '11,17', '11-15'")
    run.add_argument("--provider", default="cpu", help="providers, comma separated")
    run.add_argument(
        "--records", default=None, help="records folder (default reports/records)"
    )
    run.add_argument("--reports", default=None, help="where tables go (default reports/)")
    run.add_argument(
        "--keep", action="store_true", help="keep earlier records (default: new run)"
    )
    run.add_argument(
        "--isolate",
        action="store_true",
        help="run each case example in a child process (default with --profile nightly)",
    )
    run.add_argument("--no-isolate", action="store_true", help="never isolate cases")
    run.add_argument("--no-models", action="store_true", help="op cases only")
    run.add_argument("-j", "--jobs", type=int, default=0, help="pytest-xdist worker processes")
    run.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    run.set_defaults(fn=cmd_run)

    exp = sub.add_parser("export", help="export a saved Paddle model and verify it")
    exp.add_argument("model", help="saved-model prefix (the path given to paddle.jit.save)")
    exp.add_argument("-o", "--output", required=True, help="output .onnx file")
    exp.add_argument("--opset", type=int, default=None)
    exp.add_argument("--provider", default="cpu")
    exp.add_argument("--no-verify", action="store_true")
    exp.add_argument("--atol", type=float, default=None, help="float32 absolute tolerance")
    exp.add_argument("--rtol", type=float, default=None, help="float32 relative tolerance")
    exp.add_argument("--records", default=None)
    exp.add_argument(
        "--no-isolate",
        action="store_true",
        help="export in this process (by default a child process does it, so that a "
        "native crash inside Paddle or ONNX Runtime is reported as an error)",
    )
    exp.set_defaults(fn=cmd_export)

    rep = sub.add_parser("report", help="re-render the tables from the records")
    rep.add_argument("--records", default=None)
    rep.add_argument("--reports", default=None)
    rep.add_argument("--baseline", default=None,
                     help="records folder of an earlier run: also write changes.md")
    rep.set_defaults(fn=cmd_report)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except KeyboardInterrupt:
        # Records are appended whole, line by line: what was written so far is kept.
        print(f"harness {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
