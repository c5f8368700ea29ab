"""Indexing: lookups, arg-reductions, top-k and sorting, gathers and scatters, index ranges.

Paddle's gathers (index_select, gather_nd, take_along_axis) wrap negative indices like
Python (measured on 3.3.1 CPU), which ONNX Gather, GatherND and GatherElements do too.
Out-of-range indices are an error in Paddle, so no case draws them.
"""

import numpy as np
from onnx import numpy_helper

from harness.export.builder import onnx_dtype
from harness.export.registry import Unsupported, register
from harness.export.tensor import publish_list


def _int(ctx, op, key, what: str) -> int:
    array = np.asarray(ctx.require_const(op, key, what)).reshape(-1)
    if array.size != 1:
        raise Unsupported(f"{what} must hold one value, got {array.tolist()}")
    return int(array[0])


def _norm_axis(axis: int, rank: int, what: str = "axis") -> int:
    if not -max(rank, 1) <= axis < max(rank, 1):
        raise Unsupported(f"{what}={axis} is out of range for rank {rank}")
    return axis % max(rank, 1)


def _int64(ctx, name: str, dtype: str) -> str:
    return name if dtype == "int64" else ctx.cast(name, "int64")


# --- lookups -------------------------------------------------------------------------------


@register("pd_op.embedding")
def embedding(ctx, op):
    """Gather rows of ``weight`` by the int ids; ids equal to ``padding_idx`` give zeros.

    Paddle zeroes the output rows of ``padding_idx`` whatever the weight row holds
    (measured); the API has already made a negative padding_idx non-negative, and -1
    means none. ``sparse`` only matters to training.
    """
    ids, weight, out = ctx.input(op, 0), ctx.input(op, 1), ctx.out(op)
    pad = int(op.attrs.get("padding_idx", -1))
    if pad < 0:
        ctx.node("Gather", [weight, ids], [out], axis=0)
        return
    rows = ctx.node("Gather", [weight, ids], axis=0)
    is_pad = ctx.node("Equal", [ids, ctx.scalar(pad, ctx.dtype(op, 0))])
    zero = ctx.scalar(0, ctx.dtype(op, 1))
    ctx.node("Where", [ctx.unsqueeze(is_pad, [-1]), zero, rows], [out])


# --- arg-reductions, top-k, sorting --------------------------------------------------------


def _arg_reduce(onnx_op):
    def convert(ctx, op):
        x, out, rank = ctx.input(op, 0), ctx.out(op), ctx.rank(op, 0)
        keep = bool(op.attrs.get("keepdims"))
        dtype = ctx.out_value(op).dtype
        if op.attrs.get("flatten") or rank == 0:
            # Over all elements; keepdims then keeps every axis as 1 ([2,3] -> [1,1]).
            axis, shape = 0, [1] * rank if keep else []
            x = ctx.node("Reshape", [x, ctx.int64s([-1])])
            index = ctx.node(onnx_op, [x], axis=0, keepdims=0)
            index = ctx.node("Reshape", [index, ctx.int64s(shape)])
        else:
            axis = _norm_axis(_int(ctx, op, 1, "axis"), rank)
            index = ctx.node(onnx_op, [x], axis=axis, keepdims=int(keep))
        if dtype == "int64":
            ctx.alias(out, index)
        else:
            ctx.node("Cast", [index], [out], to=onnx_dtype(dtype))

    convert.__doc__ = (
        f"Map to {onnx_op} over the constant ``axis`` or, with ``flatten``, all elements;"
        " honour ``keepdims`` and ``dtype`` (int32/int64). Ties give the first index in"
        " Paddle (measured) and in ONNX (select_last_index=0, the default)."
    )
    return convert


register("pd_op.argmax")(_arg_reduce("ArgMax"))
register("pd_op.argmin")(_arg_reduce("ArgMin"))


# Measured: [5, 1, 4, 2, 3, 0, 7], k=4, sorted=False gives [4, 7, 5, 3]; ONNX TopK's
# sorted=0 leaves the order to the runtime, so nothing reproduces it.
_TOPK_UNSORTED = "Paddle's topk with sorted=False returns its selection in heap order"


@register("pd_op.topk")
def topk(ctx, op):
    """Map to TopK along ``axis`` with ``largest``; the ``k`` operand may be a tensor.

    Rejects ``sorted=False`` (see _TOPK_UNSORTED). On ties Paddle's CPU kernel picks and
    orders indices by its own rule (all-equal row of 4: k=1 -> index 2), while ONNX puts
    the lower index first: the values agree, the indices of tied values may not.
    """
    if not op.attrs.get("sorted", True):
        raise Unsupported(_TOPK_UNSORTED)
    x, rank = ctx.input(op, 0), ctx.rank(op, 0)
    axis = _norm_axis(int(op.attrs.get("axis", -1)), rank)
    k = ctx.const(op, 1)
    if k is not None:
        k = ctx.int64s(np.asarray(k).reshape(-1))
    else:
        k = ctx.node(
            "Reshape", [_int64(ctx, ctx.input(op, 1), ctx.dtype(op, 1)), ctx.int64s([1])]
        )
    largest = int(bool(op.attrs.get("largest", True)))
    ctx.node("TopK", [x, k], [ctx.out(op, 0), ctx.out(op, 1)], axis=axis, largest=largest)


@register("pd_op.argsort")
def argsort(ctx, op):
    """Sort along ``axis`` with TopK over the whole axis; honour ``descending``.

    ONNX TopK orders equal values by index, a stable sort: Paddle's ``stable=True``
    matches it on ties; ``stable=False`` leaves tie order to the kernel.
    """
    x, rank = ctx.input(op, 0), ctx.rank(op, 0)
    axis = _norm_axis(int(op.attrs.get("axis", -1)), rank)
    if rank == 0:
        ctx.alias(ctx.out(op, 0), x)
        ctx.node("Constant", [], [ctx.out(op, 1)], value=numpy_helper.from_array(np.int64(0)))
        return
    n = ctx.node("Gather", [ctx.node("Shape", [x]), ctx.int64s([axis])], axis=0)
    largest = int(bool(op.attrs.get("descending")))
    ctx.node("TopK", [x, n], [ctx.out(op, 0), ctx.out(op, 1)], axis=axis, largest=largest)


# --- gathers -------------------------------------------------------------------------------


@register("pd_op.index_select")
def index_select(ctx, op):
    """Gather the 1-D int ``index`` along the ``axis`` attribute (negatives wrap)."""
    axis = _norm_axis(int(op.attrs.get("axis", 0)), ctx.rank(op, 0))
    if ctx.rank(op, 1) != 1:
        raise Unsupported("index_select takes a 1-D index")
    ctx.node("Gather", [ctx.input(op, 0), ctx.input(op, 1)], [ctx.out(op)], axis=axis)


@register("pd_op.gather_nd")
def gather_nd(ctx, op):
    """Map to GatherND (batch_dims 0); the index's last dim addresses leading axes."""
    index = _int64(ctx, ctx.input(op, 1), ctx.dtype(op, 1))
    if ctx.in_value(op, 1).shape[-1:] == (0,):
        raise Unsupported("gather_nd with an empty last index dim is not supported")
    ctx.node("GatherND", [ctx.input(op, 0), index], [ctx.out(op)])


@register("pd_op.take_along_axis")
def take_along_axis(ctx, op):
    """Map to GatherElements along ``axis``; Paddle's API broadcasts the operands first."""
    axis = _norm_axis(int(op.attrs.get("axis", 0)), ctx.rank(op, 0))
    ctx.node("GatherElements", [ctx.input(op, 0), ctx.input(op, 1)], [ctx.out(op)], axis=axis)


@register("pd_op.index_sample")
def index_sample(ctx, op):
    """Pick ``x[i, index[i, j]]`` for 2-D x and index: GatherElements along axis 1."""
    if ctx.rank(op, 0) != 2 or ctx.rank(op, 1) != 2:
        raise Unsupported("index_sample takes a 2-D x and a 2-D index")
    ctx.node("GatherElements", [ctx.input(op, 0), ctx.input(op, 1)], [ctx.out(op)], axis=1)


# --- scatters ------------------------------------------------------------------------------

_SCATTER_ADD = (
    "scatter with overwrite=False accumulates duplicate indices, which ONNX ScatterND "
    "does only with reduction='add', since opset 16"
)


@register("pd_op.scatter")
def scatter(ctx, op):
    """Write ``updates`` rows into x at the 1-D ``index`` (rows along axis 0).

    ``overwrite=True`` maps to ScatterND; duplicate indices are then left to the kernel
    (Paddle's CPU one keeps the last), so no case draws them. ``overwrite=False`` zeroes
    the indexed rows and then adds every update (duplicates sum, measured): ScatterND
    twice, the second with reduction='add' (opset 16, see _SCATTER_ADD).
    """
    x, index, updates = ctx.input(op, 0), ctx.input(op, 1), ctx.input(op, 2)
    overwrite = bool(op.attrs.get("overwrite", True))
    if not overwrite and ctx.opset < 16:
        raise Unsupported(_SCATTER_ADD, needs_opset=16)
    if ctx.rank(op, 1) == 1:
        index = ctx.unsqueeze(index, [-1])
    elif ctx.rank(op, 1) != 2 or ctx.in_value(op, 1).shape[1] != 1:
        raise Unsupported("scatter takes a 1-D index or one of shape [N, 1]")
    index = _int64(ctx, index, ctx.dtype(op, 1))
    if overwrite:
        ctx.node("ScatterND", [x, index, updates], [ctx.out(op)])
        return
    zeros = ctx.node("Expand", [ctx.scalar(0, ctx.dtype(op, 2)), ctx.node("Shape", [updates])])
    cleared = ctx.node("ScatterND", [x, index, zeros])
    ctx.node("ScatterND", [cleared, index, updates], [ctx.out(op)], reduction="add")


# Paddle's reduce names -> ScatterElements reduction and the opset that brings it.
_PUT_REDUCE = {
    "assign": (None, 11),
    "add": ("add", 16),
    "mul": ("mul", 16),
    "multiply": ("mul", 16),
    "amax": ("max", 18),
    "amin": ("min", 18),
}


@register("pd_op.put_along_axis")
def put_along_axis(ctx, op):
    """Map to ScatterElements along ``axis`` with ``reduce`` assign/add/mul/amax/amin.

    Rejects ``reduce='mean'`` and ``include_self=False`` (ScatterElements always
    combines with the existing value). Paddle's API broadcasts indices and values first.
    """
    reduce = op.attrs.get("reduce", "assign")
    if reduce not in _PUT_REDUCE:
        raise Unsupported(f"put_along_axis with reduce={reduce!r} is not supported")
    if not op.attrs.get("include_self", True):
        raise Unsupported("put_along_axis with include_self=False is not supported")
    reduction, since = _PUT_REDUCE[reduce]
    if ctx.opset < since:
        raise Unsupported(f"reduce={reduce!r} needs ScatterElements of opset {since}", since)
    axis = _norm_axis(int(op.attrs.get("axis", 0)), ctx.rank(op, 0))
    inputs = [ctx.input(op, 0), ctx.input(op, 1), ctx.input(op, 2)]
    ctx.node("ScatterElements", inputs, [ctx.out(op)], axis=axis, reduction=reduction)


@register("pd_op.one_hot")
def one_hot(ctx, op):
    """Map to OneHot (off 0, on 1) on a new last axis; ``num_classes`` may be a tensor."""
    depth = ctx.const(op, 1)
    if depth is not None:
        depth = ctx.int64s(np.asarray(depth).reshape(-1)[:1])
    else:
        depth = ctx.node("Reshape", [ctx.input(op, 1), ctx.int64s([1])])
    values = ctx.const_tensor(np.array([0, 1], dtype=ctx.out_value(op).dtype))
    # ONNX Runtime's CPU OneHot has kernels for int64 labels, not for int32 with an
    # int64 depth: cast the labels.
    labels = _int64(ctx, ctx.input(op, 0), ctx.dtype(op, 0))
    ctx.node("OneHot", [labels, depth, values], [ctx.out(op)], axis=-1)


# --- slices and splits -----------------------------------------------------------------


@register("pd_op.strided_slice")
def strided_slice(ctx, op):
    """Map to Slice with steps over ``axes`` and the constant starts/ends/strides.

    Python slicing's open ends arrive as +/-2**31, which Slice clamps the same way. One
    rule differs: with a negative step, Python (and Paddle) make a start below -dim an
    empty slice, where Slice clamps it to 0 and takes element 0; such starts become an
    empty 0:0 range, at export time for static dims, else at run time. Rejects run-time
    bounds (paddle.strided_slice with tensors fails to run in Paddle 3.3.1 itself).
    """
    x, axes = ctx.input(op, 0), [int(a) for a in op.attrs["axes"]]
    consts = [ctx.require_const(op, i, what) for i, what in _SLICE_PARTS]
    dims = [ctx.in_value(op, 0).shape[a] for a in axes]
    if all(d is not None for d in dims) or min(np.asarray(consts[2]).reshape(-1)) > 0:
        starts, ends, steps = (np.asarray(c, np.int64).reshape(-1).copy() for c in consts)
        for i, d in enumerate(dims):
            if steps[i] < 0 and starts[i] < -d:
                starts[i] = ends[i] = 0
        parts = [ctx.int64s(starts), ctx.int64s(ends), ctx.int64s(steps)]
    else:
        starts, ends, steps = (ctx.int64s(np.asarray(c).reshape(-1)) for c in consts)
        dim = ctx.node("Gather", [ctx.node("Shape", [x]), ctx.int64s(axes)], axis=0)
        zero = ctx.int64s([0])
        past = ctx.node("Less", [ctx.node("Add", [starts, dim]), zero])
        empty = ctx.node("And", [ctx.node("Less", [steps, zero]), past])
        starts = ctx.node("Where", [empty, zero, starts])
        ends = ctx.node("Where", [empty, zero, ends])
        parts = [starts, ends, steps]
    starts, ends, steps = parts
    ctx.node("Slice", [x, starts, ends, ctx.int64s(axes, "axes"), steps], [ctx.out(op)])


_SLICE_PARTS = ((1, "starts"), (2, "ends"), (3, "strides"))


def _pieces(ctx, op, axis: int) -> list[str]:
    """Return x's slices at each index of ``axis`` (which drops), a static dim."""
    x, rank = ctx.input(op, 0), ctx.rank(op, 0)
    axis = _norm_axis(axis, rank)
    n = ctx.in_value(op, 0).shape[axis]
    if n is None:
        raise Unsupported("unbinding a dynamic axis: the number of results is not known")
    return [ctx.node("Gather", [x, ctx.scalar(k, "int64")], axis=axis) for k in range(n)]


@register("pd_op.unbind")
def unbind(ctx, op):
    """Slice along the static ``axis`` into a list (published for builtin.split)."""
    publish_list(ctx, ctx.out(op), _pieces(ctx, op, int(op.attrs.get("axis", 0))))


@register("pd_op.unstack")
def unstack(ctx, op):
    """Slice along the static ``axis`` into ``num`` tensors, like unbind."""
    publish_list(ctx, ctx.out(op), _pieces(ctx, op, int(op.attrs.get("axis", 0))))


# ONNX Runtime's CPU NonZero kernels (1.32).
_NONZERO_TYPES = ("bool", "float32", "int32", "int64", "uint8")


@register("pd_op.nonzero")
def nonzero(ctx, op):
    """Map to NonZero, transposed to Paddle's [count, rank] int64 layout.

    Other dtypes go through a Cast to bool first, which keeps exactly which elements
    are nonzero.
    """
    x = ctx.input(op, 0)
    if ctx.dtype(op, 0) not in _NONZERO_TYPES:
        x = ctx.cast(x, "bool")
    ctx.node("Transpose", [ctx.node("NonZero", [x])], [ctx.out(op)], perm=[1, 0])


# --- ranges and triangles ------------------------------------------------------------------


def _scalar_operand(ctx, op, key, dtype: str) -> str:
    """Return operand ``key`` (shape [1] or 0-d) as a 0-d tensor of ``dtype``."""
    value = ctx.const(op, key)
    if value is not None:
        return ctx.scalar(np.asarray(value).reshape(()), dtype)
    name = ctx.input(op, key)
    if ctx.dtype(op, key) != dtype:
        name = ctx.cast(name, dtype)
    return ctx.node("Reshape", [name, ctx.int64s([])])


@register("pd_op.arange")
def arange(ctx, op):
    """Map to Range in the result dtype; start/end/step may be run-time tensors."""
    dtype = ctx.out_value(op).dtype
    parts = [_scalar_operand(ctx, op, i, dtype) for i in range(3)]
    ctx.node("Range", parts, [ctx.out(op)])


def _at_least_one(ctx, n: str, one: str) -> str:
    # Max takes int64 only from opset 12.
    return ctx.node("Where", [ctx.node("Less", [n, one]), one, n])


@register("pd_op.linspace")
def linspace(ctx, op):
    """Emit ``num`` points from start to stop the way Paddle's kernel computes them.

    Measured on 3.3.1 CPU (exact for float32 and float64): in the result dtype, with
    step = (stop - start) / (num - 1), the first num // 2 points are start + step * i
    and the rest stop - step * (num - 1 - i); num = 1 gives start. Rejects integer
    results, whose rounding follows another rule.
    """
    dtype = ctx.out_value(op).dtype
    if dtype not in ("float32", "float64"):
        raise Unsupported(f"linspace into {dtype} rounds by a rule not reproduced here")
    start, stop = (_scalar_operand(ctx, op, i, dtype) for i in (0, 1))
    num = _scalar_operand(ctx, op, 2, "int64")
    one = ctx.scalar(1, "int64")
    last = ctx.node("Sub", [num, one])
    span = ctx.node("Sub", [stop, start])
    step = ctx.node("Div", [span, ctx.cast(_at_least_one(ctx, last, one), dtype)])
    i = ctx.node("Range", [ctx.scalar(0, "int64"), num, one])
    low = ctx.node("Add", [start, ctx.node("Mul", [step, ctx.cast(i, dtype)])])
    back = ctx.cast(ctx.node("Sub", [last, i]), dtype)
    high = ctx.node("Sub", [stop, ctx.node("Mul", [step, back])])
    # max(num // 2, 1): with num = 1 the only point is start.
    half = _at_least_one(ctx, ctx.node("Div", [num, ctx.scalar(2, "int64")]), one)
    ctx.node("Where", [ctx.node("Less", [i, half]), low, high], [ctx.out(op)])


_TRIANGLE_DYNAMIC = (
    "tril/triu of a matrix with dynamic rows or columns needs ONNX Trilu (opset 14)"
)


def _triangle(ctx, op, upper: bool) -> None:
    x, rank, k = ctx.input(op, 0), ctx.rank(op, 0), int(op.attrs.get("diagonal", 0))
    if rank < 2:
        raise Unsupported("tril/triu takes a tensor of rank 2 or more")
    if ctx.opset >= 14:
        ctx.node("Trilu", [x, ctx.scalar(k, "int64")], [ctx.out(op)], upper=int(upper))
        return
    rows, cols = ctx.in_value(op, 0).shape[-2:]
    if rows is None or cols is None:
        raise Unsupported(_TRIANGLE_DYNAMIC, needs_opset=14)
    keep = (
        np.triu(np.ones((rows, cols), bool), k)
        if upper
        else np.tril(np.ones((rows, cols), bool), k)
    )
    if ctx.dtype(op, 0) == "bool":
        # ONNX Runtime's CPU Where has no bool kernel.
        ctx.node("And", [x, ctx.const_tensor(keep)], [ctx.out(op)])
        return
    zero = ctx.scalar(0, ctx.dtype(op, 0))
    ctx.node("Where", [ctx.const_tensor(keep), x, zero], [ctx.out(op)])


@register("pd_op.tril")
def tril(ctx, op):
    """Keep the lower triangle from ``diagonal``: a constant mask for static matrix dims
    below opset 14, Trilu from 14 (dynamic dims need it)."""
    _triangle(ctx, op, upper=False)


@register("pd_op.triu")
def triu(ctx, op):
    """Keep the upper triangle from ``diagonal``; see tril."""
    _triangle(ctx, op, upper=True)


@register("pd_op.meshgrid")
def meshgrid(ctx, op):
    """Broadcast N 1-D tensors to an N-D grid ('ij' indexing), published as a list."""
    xs = ctx.input_list(op, 0)
    if any(ctx.value(n).rank != 1 for n in ctx.graph.lists[op.input(0)]):
        raise Unsupported("meshgrid takes 1-D tensors")
    full = ctx.node("Concat", [ctx.node("Shape", [x]) for x in xs], axis=0)
    parts = []
    for i, x in enumerate(xs):
        shape = [1] * len(xs)
        shape[i] = -1
        parts.append(ctx.node("Expand", [ctx.node("Reshape", [x, ctx.int64s(shape)]), full]))
    publish_list(ctx, ctx.out(op), parts)


# --- products ------------------------------------------------------------------------------


@register("pd_op.bmm")
def bmm(ctx, op):
    """Map the batched [B, N, K] @ [B, K, M] product to MatMul."""
    ctx.node("MatMul", [ctx.input(op, 0), ctx.input(op, 1)], [ctx.out(op)])


@register("pd_op.einsum", since=12)
def einsum(ctx, op):
    """Map to Einsum with the same ``equation`` (ONNX has it from opset 12).

    The op's two extra list results (Paddle's saved inner caches and the inputs, for
    training) are published as empties and as the inputs, so unpacking them works.
    """
    xs = ctx.input_list(op, 0)
    ctx.node("Einsum", xs, [ctx.out(op, 0)], equation=op.attrs["equation"])
    empty = ctx.const_tensor(np.zeros(0, ctx.out_value(op).dtype), hint="empty")
    if len(op.outputs) > 1:
        publish_list(ctx, op.outputs[1], [empty] * len(xs))
    if len(op.outputs) > 2:
        publish_list(ctx, op.outputs[2], xs)
