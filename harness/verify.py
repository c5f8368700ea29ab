"""Run an exported model on ONNX Runtime and compare it with Paddle's outputs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from harness.errors import ProviderUnavailableError, VerificationError
from harness.runtime import provider_name, session

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tolerance:
    """Elements match when ``|got - want| <= atol + rtol * |want|``."""

    atol: float
    rtol: float


# Defaults by dtype, tight on purpose; a case overrides them where its numerics need it.
DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    "float64": Tolerance(1e-10, 1e-9),
    "float32": Tolerance(1e-5, 1e-5),
    "float16": Tolerance(1e-3, 1e-3),
    "bfloat16": Tolerance(1e-2, 1e-2),
}
EXACT = Tolerance(0.0, 0.0)
# Defaults for whole models verified by `export`: a deep network sums thousands of
# products per output, so ONNX Runtime and Paddle's kernels drift apart by ~1e-5 in
# float32 (resnet18: 4e-6, mobilenet_v2: 1.2e-5 at unit-scale outputs).
MODEL_TOLERANCES: dict[str, Tolerance] = {
    **DEFAULT_TOLERANCES,
    "float32": Tolerance(1e-4, 1e-4),
    "float16": Tolerance(1e-2, 1e-2),
}


def tolerance_for(dtype: str, overrides: dict | None = None, defaults=None) -> Tolerance:
    """Return the tolerance for ``dtype``: an override, else the default, else exact."""
    if overrides and dtype in overrides:
        tol = overrides[dtype]
        return tol if isinstance(tol, Tolerance) else Tolerance(*tol)
    return (DEFAULT_TOLERANCES if defaults is None else defaults).get(dtype, EXACT)


@dataclass(frozen=True)
class OutputCheck:
    """The comparison of one output at one input set."""

    index: int
    want_shape: tuple
    got_shape: tuple
    want_dtype: str
    got_dtype: str
    max_abs: float
    max_rel: float
    mismatch: float
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class Verdict:
    """Everything one verification found, on one provider."""

    status: str  # "pass", "mismatch", "error" or "not_run"
    provider: str  # the provider that actually ran (or was asked for, when not run)
    checks: tuple[OutputCheck, ...] = ()
    reason: str = ""
    input_shapes: tuple = ()
    tolerances: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "pass"

    @property
    def max_abs(self) -> float:
        return max((c.max_abs for c in self.checks), default=0.0)

    @property
    def max_rel(self) -> float:
        return max((c.max_rel for c in self.checks), default=0.0)

    @property
    def mismatch(self) -> float:
        return max((c.mismatch for c in self.checks), default=0.0)

    @property
    def compared(self) -> str:
        outs = len({c.index for c in self.checks})
        sets = len(self.input_shapes)
        return f"{outs} output(s) at {sets} input set(s): {list(self.input_shapes)}"

    def summary(self) -> str:
        text = (
            f"{self.status} on {self.provider}: max_abs={self.max_abs:.3g} "
            f"max_rel={self.max_rel:.3g} mismatch={self.mismatch:.3g}; {self.compared}"
        )
        return f"{text}; {self.reason}" if self.reason else text


def compare(index: int, got: np.ndarray, want: np.ndarray, tol_overrides=None) -> OutputCheck:
    """Compare one output: exact shape, exact dtype, values under the dtype's tolerance."""
    got, want = np.asarray(got), np.asarray(want)
    base = dict(
        index=index,
        want_shape=tuple(want.shape),
        got_shape=tuple(got.shape),
        want_dtype=str(want.dtype),
        got_dtype=str(got.dtype),
    )
    if got.shape != want.shape:
        return OutputCheck(
            **base,
            max_abs=np.inf,
            max_rel=np.inf,
            mismatch=1.0,
            problem=f"shape {got.shape} != expected {want.shape}",
        )
    if got.dtype != want.dtype:
        return OutputCheck(
            **base,
            max_abs=np.inf,
            max_rel=np.inf,
            mismatch=1.0,
            problem=f"dtype {got.dtype} != expected {want.dtype}",
        )
    if got.size == 0:
        return OutputCheck(**base, max_abs=0.0, max_rel=0.0, mismatch=0.0)
    tol = tolerance_for(str(want.dtype), tol_overrides)
    if not np.issubdtype(want.dtype, np.number) or np.issubdtype(want.dtype, np.integer):
        bad = got != want
        diff = (
            np.abs(got.astype(np.float64) - want.astype(np.float64))
            if want.dtype != bool
            else bad
        )
        max_abs = float(np.max(diff))
        return _finish(base, bad, max_abs, max_abs)
    g = got.astype(np.complex128 if np.iscomplexobj(want) else np.float64)
    w = want.astype(g.dtype)
    g_nan, w_nan = np.isnan(g), np.isnan(w)
    g_inf, w_inf = np.isinf(g), np.isinf(w)
    special = g_nan | w_nan | g_inf | w_inf
    bad_special = (g_nan != w_nan) | (g_inf != w_inf) | (g_inf & w_inf & (g != w))
    finite = ~special
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is judged above
        diff = np.abs(g - w)
    bad = np.zeros(w.shape, dtype=bool)
    bad[finite] = diff[finite] > tol.atol + tol.rtol * np.abs(w[finite])
    bad |= bad_special
    max_abs = float(np.max(diff[finite])) if finite.any() else 0.0
    scale = np.abs(w[finite])
    rel_mask = scale > max(tol.atol, np.finfo(np.float64).tiny)
    max_rel = (
        float(np.max(diff[finite][rel_mask] / scale[rel_mask])) if rel_mask.any() else 0.0
    )
    if bad_special.any():
        max_abs = float("inf")
    return _finish(base, bad, max_abs, max_rel, tol)


def _finish(base, bad, max_abs, max_rel, tol=None) -> OutputCheck:
    fraction = float(np.count_nonzero(bad)) / max(bad.size, 1)
    problem = ""
    if fraction:
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        limit = f" (atol={tol.atol:g}, rtol={tol.rtol:g})" if tol else " (exact)"
        problem = (
            f"{np.count_nonzero(bad)} of {bad.size} elements differ{limit}, first at {where}"
        )
    return OutputCheck(
        **base, max_abs=max_abs, max_rel=max_rel, mismatch=fraction, problem=problem
    )


def verify(
    model: bytes | str,
    input_names: Sequence[str],
    input_sets: Sequence[Sequence[np.ndarray]],
    reference: Callable[[list[np.ndarray]], list[np.ndarray]],
    providers: Sequence[str] = ("CPUExecutionProvider",),
    tolerances: dict | None = None,
    expected: Sequence[Sequence[np.ndarray]] | None = None,
) -> list[Verdict]:
    """Run ``model`` on each provider for every input set and compare with ``reference``.

    ``expected`` holds precomputed reference outputs per input set (the reference is not
    called then). A provider that is not available gives a ``not_run`` verdict with the
    reason; it is never replaced by another provider.
    """
    if expected is None:
        expected = [reference(list(inputs)) for inputs in input_sets]
    shapes = tuple(tuple(tuple(x.shape) for x in inputs) for inputs in input_sets)
    verdicts = []
    for provider in providers:
        verdicts.append(
            _verify_on(model, input_names, input_sets, expected, provider, tolerances, shapes)
        )
    return verdicts


def _verify_on(model, names, input_sets, expected, provider, tolerances, shapes) -> Verdict:
    provider = provider_name(provider)
    try:
        sess = session(model, provider)
    except ProviderUnavailableError as e:
        return Verdict("not_run", provider, reason=str(e), input_shapes=shapes)
    except Exception as e:
        return Verdict(
            "error",
            provider,
            reason=f"onnxruntime could not load the model: {e}",
            input_shapes=shapes,
        )
    ran = sess.get_providers()[0]
    checks: list[OutputCheck] = []
    for inputs, want in zip(input_sets, expected):
        try:
            got = sess.run(None, dict(zip(names, inputs)))
        except Exception as e:
            reason = f"onnxruntime failed at input shapes {[x.shape for x in inputs]}: {e}"
            return Verdict("error", ran, tuple(checks), reason, shapes, _tol_dict(tolerances))
        if len(got) != len(want):
            reason = f"model gave {len(got)} outputs, Paddle gave {len(want)}"
            return Verdict(
                "mismatch", ran, tuple(checks), reason, shapes, _tol_dict(tolerances)
            )
        checks += [compare(i, g, w, tolerances) for i, (g, w) in enumerate(zip(got, want))]
    problems = [f"output {c.index}: {c.problem}" for c in checks if not c.ok]
    status = "mismatch" if problems else "pass"
    return Verdict(
        status, ran, tuple(checks), "; ".join(problems[:3]), shapes, _tol_dict(tolerances)
    )


def _tol_dict(tolerances) -> dict:
    out = {}
    for dtype, tol in (tolerances or {}).items():
        tol = tol if isinstance(tol, Tolerance) else Tolerance(*tol)
        out[dtype] = [tol.atol, tol.rtol]
    return out


def raise_on_failure(verdicts: Sequence[Verdict], where: str) -> None:
    """Raise VerificationError for the first verdict that ran and did not pass."""
    for verdict in verdicts:
        if verdict.status in ("mismatch", "error"):
            raise VerificationError(f"{where}: {verdict.summary()}", verdict)
