"""Reductions over axes: mean, sum, max, min.

Paddle passes the axes as an operand, usually made by ``pd_op.full_int_array``; an
empty list reduces every axis. ONNX took the axes as an attribute first and as an input
later (ReduceSum since opset 13, the others since 18); with the input form an absent
input means every axis, as in Paddle.
"""

import numpy as np

from harness.export.registry import Unsupported, register


def _const_axes(ctx, op, axes) -> list[int]:
    """Normalise constant ``axes`` against the rank of x; [] means every axis."""
    axes = [int(a) for a in np.asarray(axes).reshape(-1)]
    rank = ctx.in_value(op, 0).rank
    if rank is None:
        return axes
    # A 0-d x has nothing to reduce: Paddle accepts axis 0 / -1 there, ONNX no axis.
    return sorted({a % rank for a in axes}) if rank else []


def _reduce(ctx, op, onnx_op: str, axes_input: bool, x: str | None = None) -> None:
    """Emit ``onnx_op`` over the axes of operand 1, as an input or as an attribute."""
    x = x if x is not None else ctx.input(op, 0)
    keep = int(bool(op.attrs.get("keepdim", False)))
    out = [ctx.out(op)]
    axes = ctx.const(op, 1)
    if axes is None:
        if not axes_input:
            raise Unsupported(
                "axis computed at run time needs the axes-input form of " + onnx_op,
                needs_opset=13 if onnx_op == "ReduceSum" else 18,
            )
        tensor = ctx.input(op, 1)
        if ctx.dtype(op, 1) != "int64":
            tensor = ctx.cast(tensor, "int64")
        if ctx.in_value(op, 1).rank != 1:  # ONNX wants a 1-D list; Paddle takes a 0-d axis
            tensor = ctx.node("Reshape", [tensor, ctx.int64s([-1])])
        ctx.node(onnx_op, [x, tensor], out, keepdims=keep)
        return
    axes = _const_axes(ctx, op, axes)
    if axes_input:
        ctx.node(
            onnx_op, [x] + ([ctx.int64s(axes, "axes")] if axes else []), out, keepdims=keep
        )
    else:
        ctx.node(onnx_op, [x], out, keepdims=keep, axes=axes or None)


def _no_bool(ctx, op) -> None:
    if ctx.dtype(op, 0) == "bool":
        raise Unsupported(f"{op.name} of bool has no ONNX reduction (ONNX Runtime has none)")


@register("pd_op.mean")
def mean(ctx, op):
    """Honour the axis operand (constant; empty = all, negative) and ``keepdim``.

    Integer means truncate toward zero in Paddle and ONNX Runtime alike; bool is rejected.
    """
    _no_bool(ctx, op)
    _reduce(ctx, op, "ReduceMean", axes_input=False)


@register("pd_op.mean", since=18)
def mean_18(ctx, op):
    """As ``mean``; the axes become an input, so they may also be a runtime tensor."""
    _no_bool(ctx, op)
    _reduce(ctx, op, "ReduceMean", axes_input=True)


def _summand(ctx, op) -> str:
    """Return x cast to the result dtype (``dtype`` attr, or int64 for int32/bool input).

    Paddle's kernel casts before it sums, so the sum runs in the wider type.
    """
    x, want = ctx.input(op, 0), ctx.out_value(op).dtype
    return x if ctx.dtype(op, 0) == want else ctx.cast(x, want)


@register("pd_op.sum")
def sum_(ctx, op):
    """Honour the axis operand (constant), ``keepdim`` and ``dtype``."""
    _reduce(ctx, op, "ReduceSum", axes_input=False, x=_summand(ctx, op))


@register("pd_op.sum", since=13)
def sum_13(ctx, op):
    """As ``sum``; the axes become an input, so they may also be a runtime tensor."""
    _reduce(ctx, op, "ReduceSum", axes_input=True, x=_summand(ctx, op))


@register("pd_op.max")
def max_(ctx, op):
    """Honour the axis operand (constant; empty = all, negative) and ``keepdim``."""
    _no_bool(ctx, op)
    _reduce(ctx, op, "ReduceMax", axes_input=False)


@register("pd_op.max", since=18)
def max_18(ctx, op):
    """As ``max``; the axes become an input, so they may also be a runtime tensor."""
    _no_bool(ctx, op)
    _reduce(ctx, op, "ReduceMax", axes_input=True)


@register("pd_op.min")
def min_(ctx, op):
    """Honour the axis operand (constant; empty = all, negative) and ``keepdim``."""
    _no_bool(ctx, op)
    _reduce(ctx, op, "ReduceMin", axes_input=False)


@register("pd_op.min", since=18)
def min_18(ctx, op):
    """As ``min``; the axes become an input, so they may also be a runtime tensor."""
    _no_bool(ctx, op)
    _reduce(ctx, op, "ReduceMin", axes_input=True)
