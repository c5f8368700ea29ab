"""The one generic runner: case -> capture -> export at every opset -> verify -> records."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.capture import capture_layer
from harness.cases.spec import CaseProgram, ModelCase, OpCase
from harness.errors import HarnessError
from harness.export import opset_range, registry, to_onnx
from harness.isolation import reraise, run_in_child
from harness.reference import run_layer
from harness.results import ResultStore, finite, versions
from harness.verify import Verdict, tolerance_for, verify

logger = logging.getLogger(__name__)


class CaseFailure(AssertionError):
    """A case did not verify; the message says where and by how much."""


@dataclass
class RunConfig:
    """What a run sweeps: opsets (None = all the mapping supports), providers, the store."""

    opsets: Sequence[int] | None = None
    providers: Sequence[str] = ("CPUExecutionProvider",)
    store: ResultStore | None = field(default_factory=ResultStore)
    profile: str = "ci"
    # Run in forked children, so that a native crash in Paddle or ONNX Runtime becomes a
    # "crash" record instead of the end of the run: run_case forks once per example; under
    # pytest the plugin forks once per case test (run_test_isolated), and per example
    # only to find the one that crashed.
    isolate: bool = False
    # A child still running after this many seconds is killed and recorded as a crash.
    isolate_timeout: float | None = 900.0
    # (hypothesis version, blob) of a failure to replay, as printed by a failing case.
    replay: tuple[str, bytes] | None = None


def case_opsets(case: OpCase, config: RunConfig) -> list[int]:
    """Return the opsets to run ``case`` at: from its mapping's lowest to the runtime's."""
    low, high = opset_range()
    mapping = registry().get(case.op)
    if mapping is not None:
        low = max(low, mapping.lowest_opset)
    if case.min_opset:
        low = max(low, case.min_opset)
    if case.max_opset:
        high = min(high, case.max_opset)
    wanted = range(low, high + 1)
    if config.opsets:
        wanted = [o for o in wanted if o in set(config.opsets)]
    return list(wanted)


def run_case(case: OpCase, program: CaseProgram, config: RunConfig) -> list[Verdict]:
    """Run one drawn example of ``case`` at every opset; raise CaseFailure on any failure.

    Every verification writes a record; the case fails when the captured program does
    not contain ``case.op``, so it can't pass by testing something else. With
    ``config.isolate`` the example runs in a child process; a child killed by a signal
    gives a "crash" record with the signal's name and a CaseFailure.
    """
    if config.isolate:
        return _isolated(case, program, config, _run_case, case, program, config)
    return _run_case(case, program, config)


def _run_case(case: OpCase, program: CaseProgram, config: RunConfig) -> list[Verdict]:
    start = time.perf_counter()
    base = _base_record(case, program)
    try:
        graph = capture_layer(program.layer, program.specs)
        counts = graph.op_counts()
        if case.op not in counts:
            raise CaseFailure(
                f"{case.id}: the captured program has no {case.op}; it has {dict(counts)}. "
                "Fix the case's program so that it produces the op under test."
            )
        expected = [run_layer(program.layer, inputs) for inputs in program.input_sets]
    except HarnessError as e:
        _record(config, base, None, "error", str(e), start)
        raise CaseFailure(f"{case.id} {program!r}: {e}") from e
    except CaseFailure as e:
        _record(config, base, None, "error", str(e), start)
        raise
    verdicts, failures = [], []
    for opset in case_opsets(case, config):
        t0 = time.perf_counter()
        try:
            exported = to_onnx(graph, opset)
        except HarnessError as e:
            _record(config, base, None, "error", str(e), t0, opset=opset)
            failures.append(f"opset {opset}: export failed: {e}")
            continue
        found = verify(
            exported.model.SerializeToString(),
            graph.inputs,
            program.input_sets,
            None,
            config.providers,
            case.tolerances,
            expected=expected,
        )
        onnx_ops = sorted(exported.onnx_ops.get(case.op, ()))
        for verdict in found:
            _record(
                config,
                base,
                verdict,
                verdict.status,
                verdict.reason,
                t0,
                opset=opset,
                onnx_ops=onnx_ops,
            )
            if verdict.status in ("mismatch", "error"):
                failures.append(f"opset {opset}: {verdict.summary()}")
        verdicts += found
    if failures:
        shown = "\n  ".join(failures[:6])
        more = f"\n  ... and {len(failures) - 6} more" if len(failures) > 6 else ""
        raise CaseFailure(f"{case.id} {program!r}:\n  {shown}{more}")
    return verdicts


def run_test_isolated(test, kwargs: dict, case, config: RunConfig) -> None:
    """Run a whole case test (every example Hypothesis draws) in one forked child.

    One child per test, not per example, keeps what Paddle warms up once per process
    (converted functions, oneDNN kernels) warm across the examples: per-example children
    made a quick run about four times slower. When the child crashes, the test runs again
    here with one child per example (``config.isolate``), so the crash is recorded
    against the example that caused it; the run then goes on with the next test.
    """

    def in_child():
        config.isolate = False  # the child's copy: its examples run in it
        test(**kwargs)

    start = time.perf_counter()
    outcome = run_in_child(in_child, timeout=config.isolate_timeout)
    if outcome.kind == "returned":
        return
    if outcome.kind == "raised":
        reraise(outcome, CaseFailure)
    if outcome.kind == "crashed":
        test(**kwargs)  # one child per example: records and raises the crash
    # A hang, or a crash that no single example reproduces: record it against the case.
    reason = f"the child process running this case's examples {outcome.describe()}"
    extra = {"signal": outcome.signal or None, "exit_code": outcome.exit_code}
    _record(config, _case_record(case), None, "crash", reason, start, **extra)
    raise CaseFailure(
        f"{case.id}: {reason}; no example crashed on its own. The run carries on with the "
        f"next case; run `pytest -k '{case.id}'` without --isolate to see the native stack."
    )


def _isolated(case, program: CaseProgram, config: RunConfig, fn, *args):
    """Run ``fn(*args)`` in a child; turn a crash into a record and a CaseFailure."""
    start = time.perf_counter()
    outcome = run_in_child(fn, *args, timeout=config.isolate_timeout)
    if outcome.kind == "returned":
        return outcome.value
    if outcome.kind == "raised":
        reraise(outcome, CaseFailure)
    # The child's own records (written before it died) stay; this one says how it ended.
    reason = f"the child process running this example {outcome.describe()}"
    extra = {"signal": outcome.signal or None, "exit_code": outcome.exit_code}
    _record(config, _base_record(case, program), None, "crash", reason, start, **extra)
    raise CaseFailure(
        f"{case.id} {program!r}: {reason}. The run carries on with the next example; "
        f"run `pytest -k '{case.id}'` without --isolate to see the native stack."
    )


def _case_record(case) -> dict:
    kind = "model" if isinstance(case, ModelCase) else "op"
    return {
        "kind": kind,
        "target": case.name if kind == "model" else case.op,
        "case": case.id,
        "paddle_api": getattr(case, "paddle_api", getattr(case, "source", "")),
        "expected_failure": case.xfail,
        "versions": versions(),
    }


def _base_record(case, program: CaseProgram) -> dict:
    return {
        **_case_record(case),
        "dtypes": program.dtypes,
        "dynamic": program.dynamic,
        "input_shapes": [[list(x.shape) for x in inputs] for inputs in program.input_sets],
        "seed": program.seed,
        "example": repr(program)[:500],
    }


def _record(config, base, verdict, status, reason, start, **extra) -> None:
    if config.store is None:
        return
    record = {
        **base,
        **extra,
        "status": status,
        "reason": reason[:1000],
        "seconds": round(time.perf_counter() - start, 4),
        "profile": config.profile,
    }
    if verdict is not None:
        record.update(
            provider=verdict.provider,
            max_abs=finite(verdict.max_abs),
            max_rel=finite(verdict.max_rel),
            mismatch=verdict.mismatch,
            compared=verdict.compared,
        )
    config.store.append(record)


def run_model_case(case: ModelCase, config: RunConfig, program: CaseProgram | None = None):
    """Export a real model at its opset (or the chosen one) and verify it.

    With ``config.isolate`` the export and verification run in a child process.
    """
    program = program if program is not None else case.build()
    if config.isolate:
        return _isolated(case, program, config, _run_model_case, case, config, program)
    return _run_model_case(case, config, program)


def _run_model_case(case: ModelCase, config: RunConfig, program: CaseProgram):
    start = time.perf_counter()
    base = _base_record(case, program)
    # The model table shows the bound next to the error, so a max rel err reads in context.
    base["tolerances"] = {
        dtype: [tol.atol, tol.rtol]
        for dtype in program.dtypes
        for tol in [tolerance_for(dtype, case.tolerances)]
    }
    try:
        graph = capture_layer(program.layer, program.specs)
        expected = [run_layer(program.layer, inputs) for inputs in program.input_sets]
        exported = to_onnx(graph, case.opset)
    except HarnessError as e:
        _record(config, base, None, "error", str(e), start)
        raise CaseFailure(f"{case.id}: {e}") from e
    base["opset"] = exported.opset
    base["onnx_nodes"] = len(exported.model.graph.node)
    base["paddle_ops"] = len(graph.ops)
    found = verify(
        exported.model.SerializeToString(),
        graph.inputs,
        program.input_sets,
        None,
        config.providers,
        case.tolerances,
        expected=expected,
    )
    problems = []
    for verdict in found:
        _record(config, base, verdict, verdict.status, verdict.reason, start)
        if verdict.status in ("mismatch", "error"):
            problems.append(verdict.summary())
    if problems:
        raise CaseFailure(f"{case.id}: " + "; ".join(problems))
    return found
