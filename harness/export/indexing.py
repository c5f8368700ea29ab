"""Indexing: lookups, arg-reductions, top-k and sorting, gathers and scatters, index ranges.

Paddle's gathers (index_select, gather_nd, take_along_axis) wrap negative indices like
Python (measured on 3.3.1 CPU), which ONNX Gather, GatherND and GatherElements do too.
Out-of-range indices are an error in Paddle, so no case draws them.
"""

import numpy as np
from onnx import numpy_helper

from harness.export.builder import onnx_dtype
from harness.export.registry import Unsupported, register


def _scalar(ctx, value, dtype: str) -> str:
    """Return a 0-d constant; a Constant node, since initializers come out at least 1-D."""
    array = np.asarray(value).astype(dtype)
    return ctx.node("Constant", [], value=numpy_helper.from_array(array))


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


def _unsqueeze(ctx, x: str, axes: list[int], out=1) -> str:
    if ctx.opset >= 13:
        return ctx.node("Unsqueeze", [x, ctx.int64s(axes, "axes")], out)
    return ctx.node("Unsqueeze", [x], out, axes=axes)


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
    is_pad = ctx.node("Equal", [ids, _scalar(ctx, pad, ctx.dtype(op, 0))])
    zero = _scalar(ctx, 0, ctx.dtype(op, 1))
    ctx.node("Where", [_unsqueeze(ctx, is_pad, [-1]), zero, rows], [out])


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
