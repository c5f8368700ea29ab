"""``export``: the library entry point, shaped like ``paddle.onnx.export``."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.capture import capture_layer, capture_saved
from harness.errors import (
    BadArgumentError,
    CaptureError,
    ExportError,
    HarnessError,
    VerificationError,
)
from harness.export import to_onnx
from harness.export.converter import check_opset
from harness.graph import Graph
from harness.io import check_writable, save_model
from harness.verify import MODEL_TOLERANCES, Verdict, raise_on_failure, verify

logger = logging.getLogger(__name__)

# Sizes given to dynamic dims when the caller passes no verification inputs: the batch dim
# (axis 0) is run at 1 and 3, every other dynamic dim at 32 and 24.
BATCH_SIZES = (1, 3)
OTHER_SIZES = (32, 24)


@dataclass
class ExportResult:
    """What ``export`` wrote and what it verified."""

    path: Path
    opset: int
    input_names: list[str]
    output_names: list[str]
    paddle_ops: int
    onnx_nodes: int
    onnx_ops: dict[str, list[str]]
    dynamic: bool = False
    verdicts: list[Verdict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def verified(self) -> bool:
        return bool(self.verdicts) and all(
            v.ok for v in self.verdicts if v.status != "not_run"
        )

    @property
    def provider(self) -> str | None:
        ran = [v.provider for v in self.verdicts if v.status != "not_run"]
        return ran[0] if ran else None

    @property
    def max_abs(self) -> float:
        return max((v.max_abs for v in self.verdicts), default=0.0)

    @property
    def max_rel(self) -> float:
        return max((v.max_rel for v in self.verdicts), default=0.0)

    def summary(self) -> str:
        head = (
            f"wrote {self.path} (opset {self.opset}, {self.paddle_ops} Paddle ops -> "
            f"{self.onnx_nodes} ONNX nodes)"
        )
        if not self.verdicts:
            return f"{head}; not verified"
        return head + "; " + "; ".join(v.summary() for v in self.verdicts)


def onnx_path(path) -> Path:
    """Map a ``paddle.onnx.export`` path prefix to the file written (prefix + '.onnx')."""
    if not isinstance(path, (str, os.PathLike)):
        raise BadArgumentError(
            f"path must be a str or os.PathLike prefix, got {type(path).__name__}"
        )
    text = os.fspath(path)
    if not text or text.endswith(os.sep):
        raise BadArgumentError(
            f"path={text!r} names a folder; give a file prefix like 'out/model'"
        )
    return Path(text if text.endswith(".onnx") else text + ".onnx")


def export(
    layer,
    path,
    input_spec=None,
    opset_version: int | None = None,
    verify: bool = True,
    providers: Sequence[str] = ("CPUExecutionProvider",),
    verify_inputs=None,
    tolerances: dict | None = None,
    isolate: bool = False,
    **configs,
) -> ExportResult:
    """Export ``layer`` (a ``paddle.nn.Layer`` or a saved-model prefix) to ``path + '.onnx'``.

    Args:
        layer: a Layer, traced with ``input_spec``; or the prefix of a saved inference model
            (``.json`` or legacy ``.pdmodel`` with ``.pdiparams``).
        path: output prefix, as in ``paddle.onnx.export``; missing folders are created.
        input_spec: list of ``paddle.static.InputSpec`` (None dims are dynamic).
        opset_version: target opset; None picks one every op of the program supports.
        verify: run the model on ONNX Runtime and compare with Paddle's outputs.
        providers: ONNX Runtime providers to verify on ("cpu", "cuda").
        verify_inputs: list of input sets (each a list of arrays) to verify at; by default
            random inputs at several sizes of every dynamic dim.
        tolerances: per-dtype ``(atol, rtol)`` overrides for the comparison; the defaults
            are ``harness.verify.MODEL_TOLERANCES`` (float32: 1e-4, 1e-4).
        isolate: run the whole export in a forked child process, so that a native crash
            inside Paddle or ONNX Runtime raises ExportError here instead of killing the
            calling process (the CLI does this by default). The first isolated call
            collects garbage and freezes what is alive (``gc.freeze``); see
            harness.isolation for why.

    Returns an ExportResult. Raises UnsupportedOpsError (every unsupported op at once),
    OpsetError, ModelFileError, CaptureError, or VerificationError when ONNX Runtime and
    Paddle disagree (the model is written first, so it can be inspected). Arguments are
    checked, and the output folder is created and probed, before any work is done.
    """
    if configs:
        logger.warning(
            "ignoring export options this exporter does not use: %s", sorted(configs)
        )
    if isolate:
        return _export_isolated(
            layer,
            path,
            input_spec,
            opset_version,
            verify,
            providers,
            verify_inputs,
            tolerances,
        )
    start = time.perf_counter()
    target = onnx_path(path)
    providers = _check_arguments(layer, opset_version, providers)
    check_writable(target)
    with _unexpected("capturing the model", CaptureError):
        graph, reference = _capture(layer, input_spec)
    with _unexpected("converting the program to ONNX", ExportError):
        exported = to_onnx(graph, opset_version)
    with _unexpected(f"writing {target}", ExportError):
        written = save_model(exported.model, target)
    result = ExportResult(
        path=target,
        opset=exported.opset,
        input_names=list(graph.inputs),
        output_names=[o.name for o in exported.model.graph.output],
        paddle_ops=len(graph.ops),
        onnx_nodes=len(exported.model.graph.node),
        onnx_ops={k: sorted(v) for k, v in exported.onnx_ops.items()},
        dynamic=_is_dynamic(graph),
    )
    if verify:
        sets = _input_sets(graph, verify_inputs)
        # A model with external data can only be run from its file.
        model = str(target) if len(written) > 1 else exported.model.SerializeToString()
        with _unexpected("verifying the model", VerificationError):
            result.verdicts = _verify(model, graph, sets, reference, providers, tolerances)
        raise_on_failure(result.verdicts, f"verification of {target} failed (model kept)")
        if not any(v.status == "pass" for v in result.verdicts):
            reasons = "; ".join(v.reason for v in result.verdicts)
            raise VerificationError(f"no provider could run {target}: {reasons}")
    result.seconds = time.perf_counter() - start
    logger.info("%s", result.summary())
    return result


@contextlib.contextmanager
def _unexpected(doing: str, error: type[HarnessError]):
    """Re-raise anything outside the hierarchy as ``error``, so callers catch one family.

    MemoryError and KeyboardInterrupt pass through unchanged: they say something about
    the machine or the user, not about the model.
    """
    try:
        yield
    except (HarnessError, MemoryError):
        raise
    except Exception as e:
        raise error(
            f"{doing} failed with an unexpected {type(e).__name__}: {e}. The exporter "
            "does not expect this error here; please report it with the model."
        ) from e


def _check_arguments(layer, opset_version, providers) -> list[str]:
    """Check what can be checked before any work; return the providers' full names."""
    import paddle

    if not isinstance(layer, (str, os.PathLike, paddle.nn.Layer)):
        raise BadArgumentError(
            f"layer must be a paddle.nn.Layer or the path prefix of a saved model, got "
            f"{type(layer).__name__} ({layer!r:.80})"
        )
    if opset_version is not None:
        check_opset(opset_version)
    return _check_providers(providers)


def _check_providers(providers) -> list[str]:
    import onnxruntime as ort

    from harness.runtime import provider_name

    if isinstance(providers, str):
        providers = providers.split(",")
    if not isinstance(providers, (list, tuple)) or not all(
        isinstance(p, str) for p in providers
    ):
        raise BadArgumentError(
            f"providers must be a list of provider names like ['cpu', 'cuda'], got "
            f"{providers!r:.80} ({type(providers).__name__})"
        )
    names = [provider_name(p.strip()) for p in providers if p.strip()]
    known = ort.get_all_providers()
    unknown = [p for p in names if p not in known]
    if not names or unknown:
        raise BadArgumentError(
            f"providers={list(providers)!r} names no known ONNX Runtime provider"
            f"{f' ({unknown})' if unknown else ''}: use 'cpu', 'cuda' or a full name "
            f"such as {', '.join(known[:3])}"
        )
    return names


def _export_isolated(layer, path, *args) -> ExportResult:
    from harness.isolation import run_in_child

    outcome = run_in_child(export, layer, path, *args, isolate=False)
    if outcome.kind == "returned":
        return outcome.value
    if outcome.kind == "raised" and outcome.error is not None:
        if hasattr(outcome.error, "add_note"):
            outcome.error.add_note(f"raised in the child process:\n{outcome.traceback}")
        raise outcome.error
    if outcome.kind == "raised":
        raise ExportError(f"the export failed in its child process: {outcome.describe()}")
    raise ExportError(
        f"the export of {layer!r:.200} {outcome.describe()} in its child process: a native "
        "crash inside Paddle or ONNX Runtime. Nothing new was written to "
        f"{onnx_path(path)}; export other models as usual, and report this one."
    )


def _verify(model, graph, sets, reference, providers, tolerances) -> list[Verdict]:
    policy = {**MODEL_TOLERANCES, **(tolerances or {})}
    return verify(model, graph.inputs, sets, reference, providers, policy)


def _capture(layer, input_spec):
    if isinstance(layer, (str, os.PathLike)):
        from harness.reference import SavedModelRunner

        graph = capture_saved(layer)
        runner = SavedModelRunner(layer)
        return graph, runner
    from harness.reference import run_layer

    graph = capture_layer(layer, input_spec)
    return graph, lambda inputs: run_layer(layer, inputs)


def _input_sets(graph: Graph, verify_inputs) -> list[list[np.ndarray]]:
    if verify_inputs is not None:
        return _user_sets(graph, verify_inputs)
    values = [graph.values[name] for name in graph.inputs]
    rng = np.random.default_rng(0)
    rounds = len(BATCH_SIZES) if _is_dynamic(graph) else 1
    return [[_random(v, k, rng) for v in values] for k in range(rounds)]


def _is_dynamic(graph: Graph) -> bool:
    values = [graph.values[name] for name in graph.inputs]
    return any(v.shape is None or None in v.shape for v in values)


def _random(value, k: int, rng) -> np.ndarray:
    if value.shape is None:
        raise BadArgumentError(
            f"input {value.name!r} has unknown rank; pass verify_inputs to verify it"
        )
    shape = tuple(
        d if d is not None else (BATCH_SIZES[k] if axis == 0 else OTHER_SIZES[k])
        for axis, d in enumerate(value.shape)
    )
    dtype = np.dtype("uint16" if value.dtype == "bfloat16" else value.dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 4, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _user_sets(graph: Graph, verify_inputs) -> list[list[np.ndarray]]:
    sets = verify_inputs
    if not isinstance(sets, (list, tuple, np.ndarray)) or not len(sets):
        raise BadArgumentError(
            f"verify_inputs must be a non-empty list of input sets (each a list of numpy "
            f"arrays, one per model input), got {type(sets).__name__}"
        )
    if isinstance(sets, np.ndarray) or isinstance(sets[0], np.ndarray):
        sets = [list(sets) if isinstance(sets, (list, tuple)) else [sets]]
    out = []
    for k, inputs in enumerate(sets):
        if not isinstance(inputs, (list, tuple)):
            raise BadArgumentError(
                f"verify_inputs[{k}] must be a list of arrays, one per model input "
                f"{graph.inputs}, got {type(inputs).__name__}"
            )
        arrays = [np.asarray(x) for x in inputs]
        if len(arrays) != len(graph.inputs):
            raise BadArgumentError(
                f"verify_inputs[{k}] has {len(arrays)} arrays, the model takes "
                f"{len(graph.inputs)} inputs {graph.inputs}"
            )
        for array, name in zip(arrays, graph.inputs):
            _check_input(graph.values[name], array, k)
            _warn_non_finite(array, name, k)
        out.append(arrays)
    return out


def _warn_non_finite(array: np.ndarray, name: str, k: int) -> None:
    # NaN and inf are legitimate inputs (they test propagation); the comparison then
    # requires both runtimes to put NaN and the same inf at the same places.
    if not np.issubdtype(array.dtype, np.floating):
        return
    nan, inf = int(np.isnan(array).sum()), int(np.isinf(array).sum())
    if nan or inf:
        logger.warning(
            "verify_inputs[%d] for %r holds %d NaN and %d inf values; outputs must agree "
            "on where NaN and inf appear, other elements are compared as usual",
            k,
            name,
            nan,
            inf,
        )


def _check_input(value, array: np.ndarray, k: int) -> None:
    if value.shape is not None and (
        array.ndim != len(value.shape)
        or any(d is not None and d != s for d, s in zip(value.shape, array.shape))
    ):
        raise BadArgumentError(
            f"verify_inputs[{k}] for {value.name!r} has shape {array.shape}, the model "
            f"takes {list(value.shape)} (None is any size)"
        )
    if value.dtype and value.dtype != "bfloat16" and str(array.dtype) != value.dtype:
        raise BadArgumentError(
            f"verify_inputs[{k}] for {value.name!r} has dtype {array.dtype}, the model "
            f"takes {value.dtype}"
        )
