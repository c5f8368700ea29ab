"""Walk a Graph through the registry and write one checked ONNX model."""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import onnx
from onnx import helper

from harness.errors import (
    BadArgumentError,
    ExportError,
    OpsetError,
    OpsetTooLowError,
    UnsupportedOp,
    UnsupportedOpsError,
)
from harness.export.builder import GraphBuilder, onnx_dtype, tensor_proto
from harness.export.context import ExportContext
from harness.export.optimize import optimize as optimize_model
from harness.export.registry import MIN_OPSET, Unsupported, registry
from harness.graph import Graph
from harness.io import EXTERNAL_DATA_THRESHOLD, initializer_bytes
from harness.runtime import ir_version_for, max_runtime_opset

logger = logging.getLogger(__name__)

# The opset picked when the caller names none, if every op of the program supports it.
PREFERRED_OPSET = 17
_PRODUCER = "paddle-onnx-harness"


@dataclass
class Exported:
    """An ONNX model and what went into it."""

    model: onnx.ModelProto
    opset: int
    # ONNX op types emitted for each Paddle op name.
    onnx_ops: dict[str, set[str]] = field(default_factory=dict)
    seconds: float = 0.0


def opset_range() -> tuple[int, int]:
    return MIN_OPSET, max_runtime_opset()


def check_opset(opset) -> int:
    """Validate an explicit opset against what this exporter and the runtime support."""
    if isinstance(opset, bool) or not isinstance(opset, int):
        raise OpsetError(
            f"opset_version must be an int, got {opset!r} ({type(opset).__name__})"
        )
    low, high = opset_range()
    if opset < low or opset > high:
        raise OpsetError(
            f"opset_version={opset} is outside what can be exported and run here: "
            f"{low}..{high} (the installed onnxruntime runs up to opset {high})"
        )
    return opset


def _needs(graph: Graph) -> dict[str, int]:
    """Return the lowest opset of each op of ``graph`` that has a mapping."""
    maps = registry()
    return {op.name: maps[op.name].lowest_opset for op in graph.ops if op.name in maps}


def _unmapped(graph: Graph) -> list[UnsupportedOp]:
    maps = registry()
    counts = Counter(op.name for op in graph.ops if op.name not in maps)
    return [
        UnsupportedOp(name, n, "no mapping is registered")
        for name, n in sorted(counts.items())
    ]


def choose_opset(graph: Graph) -> int:
    """Pick an opset every op of ``graph`` supports: the preferred one, or the lowest above."""
    low, high = opset_range()
    need = max(_needs(graph).values(), default=low)
    return min(max(PREFERRED_OPSET, need), high)


def to_onnx(graph: Graph, opset: int | None = None) -> Exported:
    """Convert ``graph`` to a checked ONNX model at ``opset`` (chosen when None).

    Raises OpsetError for an opset out of range, OpsetTooLowError when some ops need a
    higher opset than the one given, and UnsupportedOpsError listing every op that cannot
    be exported.
    """
    explicit = opset is not None
    opset = check_opset(opset) if explicit else choose_opset(graph)
    unmapped = _unmapped(graph)
    too_low = _too_low(graph, opset)
    if explicit and too_low and not unmapped:
        raise OpsetTooLowError(too_low, opset)
    if unmapped or too_low:
        raise UnsupportedOpsError(unmapped + too_low, opset)
    try:
        return _convert(graph, opset)
    except UnsupportedOpsError as e:
        higher = [u.needs_opset for u in e.unsupported]
        if explicit or None in higher or max(higher) > max_runtime_opset():
            raise
        logger.info("retrying at opset %d, which %s needs", max(higher), e.unsupported[0].op)
        return _convert(graph, max(higher))


def _too_low(graph: Graph, opset: int) -> list[UnsupportedOp]:
    needs = _needs(graph)
    counts = Counter(op.name for op in graph.ops)
    return [
        UnsupportedOp(name, counts[name], f"needs opset {need} or higher", need)
        for name, need in sorted(needs.items())
        if need > opset
    ]


def _convert(graph: Graph, opset: int, optimize: bool = True) -> Exported:
    start = time.perf_counter()
    maps = registry()
    builder = GraphBuilder(reserved=graph.values)
    ctx = ExportContext(graph, opset, builder)
    emitted: dict[str, set[str]] = defaultdict(set)
    failures: dict[tuple[str, str], list] = {}
    for op in graph.ops:
        variant = maps[op.name].variant_for(opset)
        try:
            variant.fn(ctx, op)
        except Unsupported as e:
            key = (op.name, e.reason)
            failures.setdefault(key, [0, e.needs_opset])[0] += 1
            continue
        except (ExportError, BadArgumentError):
            raise
        except Exception as e:
            raise ExportError(
                f"mapping of {op.name} (op #{op.index}, results {op.outputs}) failed at "
                f"opset {opset}: {type(e).__name__}: {e}"
            ) from e
        emitted[op.name].update(builder.take_emitted())
        logger.debug("mapped %s -> %s", op.name, sorted(emitted[op.name]))
    if failures:
        raise UnsupportedOpsError(
            [
                UnsupportedOp(op, n, reason, need)
                for (op, reason), (n, need) in failures.items()
            ],
            opset,
        )
    model = _assemble(graph, ctx, opset)
    if optimize:
        optimize_model(model)
    _declare_output_shapes(model)
    _check(model)
    seconds = time.perf_counter() - start
    logger.info("exported %d ops at opset %d in %.3fs", len(graph.ops), opset, seconds)
    return Exported(model, opset, dict(emitted), seconds)


def _value_info(graph: Graph, name: str, onnx_name: str, symbolic: bool):
    value = graph.values[name]
    if value.shape is None:
        return helper.make_tensor_value_info(onnx_name, onnx_dtype(value.dtype), None)
    dims = []
    for i, d in enumerate(value.shape):
        if d is not None:
            dims.append(d)
        else:
            dims.append(f"{onnx_name}_d{i}" if symbolic else None)
    return helper.make_tensor_value_info(onnx_name, onnx_dtype(value.dtype), dims)


def _assemble(graph: Graph, ctx: ExportContext, opset: int) -> onnx.ModelProto:
    builder = ctx.builder
    inputs = [_value_info(graph, name, name, symbolic=True) for name in graph.inputs]
    outputs = []
    for i, name in enumerate(graph.outputs):
        source = ctx.resolve(name)
        out_name = name
        if source != name or source in graph.inputs or name in graph.outputs[:i]:
            # A graph output that is only an alias needs a node of its own.
            out_name = name if source != name else builder.fresh(f"{name}_out")
            builder.node("Identity", [source], [out_name])
        outputs.append(_value_info(graph, name, out_name, symbolic=False))
    nodes = _live_nodes(builder.nodes, [o.name for o in outputs])
    needed = {i for node in nodes for i in node.input}
    initializers = [
        tensor_proto(graph.params[p], p, graph.values[p].dtype)
        for p in graph.params
        if p in needed
    ]
    initializers += [t for name, t in builder.initializers.items() if name in needed]
    onnx_graph = helper.make_graph(nodes, "main", inputs, outputs, initializers)
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", opset)],
        ir_version=ir_version_for(opset),
        producer_name=_PRODUCER,
    )
    return model


def _declare_output_shapes(model: onnx.ModelProto) -> None:
    """Reconcile the output shapes Paddle declared with what ONNX infers from the graph.

    Paddle's recorded result shapes are sometimes wrong (matmul of operands of different
    ranks copies the batch dims of the higher-rank one), and a declared shape that
    contradicts inference fails the checker for a correct model. Inferred dims win;
    Paddle's static dims fill the ones inference leaves open.
    """
    if initializer_bytes(model) >= EXTERNAL_DATA_THRESHOLD:
        return  # past the protobuf limit inference cannot run on the proto
    declared = [onnx.TypeProto() for _ in model.graph.output]
    for out, saved in zip(model.graph.output, declared):
        saved.CopyFrom(out.type)
        out.type.tensor_type.ClearField("shape")
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except Exception as e:  # keep Paddle's shapes; the checker will report real problems
        logger.debug("shape inference failed, keeping declared output shapes: %s", e)
        inferred = None
    for i, (out, saved) in enumerate(zip(model.graph.output, declared)):
        guess = inferred.graph.output[i].type.tensor_type if inferred is not None else None
        out.type.CopyFrom(saved)
        if guess is None or not guess.HasField("shape"):
            continue
        mine = saved.tensor_type.shape.dim
        dims = list(guess.shape.dim)
        shape = out.type.tensor_type.shape
        shape.ClearField("dim")
        for k, dim in enumerate(dims):
            new = shape.dim.add()
            if dim.HasField("dim_value"):
                new.dim_value = dim.dim_value
            elif len(mine) == len(dims) and mine[k].HasField("dim_value"):
                new.dim_value = mine[k].dim_value


def _live_nodes(nodes, outputs) -> list:
    """Drop nodes whose results nothing reads (constants folded into attributes, say)."""
    wanted = set(outputs)
    live = []
    for node in reversed(nodes):
        if any(o in wanted for o in node.output):
            live.append(node)
            wanted.update(i for i in node.input if i)
    return live[::-1]


def _check(model: onnx.ModelProto) -> None:
    from harness import io

    if io.initializer_bytes(model) >= io.EXTERNAL_DATA_THRESHOLD:
        # The checker serialises its argument, and protobuf stops at 2 GiB: a model this
        # large is checked by path instead, when harness.io.save_model writes it.
        logger.info("model past the external-data threshold: checked when saved")
        return
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:
        raise ExportError(f"the exported model fails the ONNX checker: {e}") from e
