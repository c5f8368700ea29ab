"""Activations: elementwise nonlinearities and softmax.

Where Paddle's kernel is a closed formula the composed variants follow that formula term
by term, so the only difference left is float rounding.
"""

import math

from harness.export.registry import register, register_direct

_UNARY = {
    "pd_op.relu": "Relu",
    "pd_op.sigmoid": "Sigmoid",
    "pd_op.tanh": "Tanh",
    "pd_op.exp": "Exp",
    "pd_op.sqrt": "Sqrt",
    "pd_op.abs": "Abs",
}


register_direct(_UNARY, __name__)


@register("pd_op.relu6")
def relu6(ctx, op):
    """Clip to [0, 6]; Paddle 3's relu6 has a fixed threshold and no attributes."""
    x = ctx.input(op, 0)
    ctx.node(
        "Clip",
        [x, ctx.scalar(0, ctx.dtype(op, 0)), ctx.scalar(6, ctx.dtype(op, 0))],
        [ctx.out(op)],
    )


@register("pd_op.leaky_relu")
def leaky_relu(ctx, op):
    """Honour ``negative_slope`` as LeakyRelu's alpha."""
    alpha = float(op.attrs["negative_slope"])
    ctx.node("LeakyRelu", [ctx.input(op, 0)], [ctx.out(op)], alpha=alpha)


@register("pd_op.elu")
def elu(ctx, op):
    """Honour ``alpha``: x if x > 0 else alpha * (exp(x) - 1), as ONNX's Elu."""
    ctx.node("Elu", [ctx.input(op, 0)], [ctx.out(op)], alpha=float(op.attrs["alpha"]))


def _silu(ctx, op):
    """Compute x * sigmoid(x); Paddle 3's swish has no beta and is the same function."""
    x = ctx.input(op, 0)
    ctx.node("Mul", [x, ctx.node("Sigmoid", [x])], [ctx.out(op)])


register("pd_op.silu")(_silu)
register("pd_op.swish")(_silu)


@register("pd_op.hardsigmoid")
def hardsigmoid(ctx, op):
    """Honour slope and offset: max(0, min(1, slope * x + offset)) is ONNX's alpha/beta."""
    ctx.node(
        "HardSigmoid",
        [ctx.input(op, 0)],
        [ctx.out(op)],
        alpha=float(op.attrs["slope"]),
        beta=float(op.attrs["offset"]),
    )


@register("pd_op.hardswish")
def hardswish(ctx, op):
    """Compose Paddle's x * min(max(x + 3, 0), 6) / 6 (HardSwish arrives in opset 14)."""
    x = ctx.input(op, 0)
    shifted = ctx.node("Add", [x, ctx.scalar(3, ctx.dtype(op, 0))])
    gate = ctx.node(
        "Clip", [shifted, ctx.scalar(0, ctx.dtype(op, 0)), ctx.scalar(6, ctx.dtype(op, 0))]
    )
    scaled = ctx.node("Mul", [x, gate])
    ctx.node("Div", [scaled, ctx.scalar(6, ctx.dtype(op, 0))], [ctx.out(op)])


@register("pd_op.hardswish", since=14)
def hardswish_14(ctx, op):
    """Map to HardSwish, whose fixed alpha 1/6 and beta 0.5 are Paddle's constants."""
    ctx.node("HardSwish", [ctx.input(op, 0)], [ctx.out(op)])


@register("pd_op.gelu")
def gelu(ctx, op):
    """Compose the erf form, or the tanh form when ``approximate`` is True."""
    x = ctx.input(op, 0)
    if op.attrs.get("approximate"):
        # 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))
        cube = ctx.node("Mul", [ctx.node("Mul", [x, x]), x])
        inner = ctx.node(
            "Add", [x, ctx.node("Mul", [cube, ctx.scalar(0.044715, ctx.dtype(op, 0))])]
        )
        arg = ctx.node("Mul", [inner, ctx.scalar(math.sqrt(2 / math.pi), ctx.dtype(op, 0))])
        core = ctx.node("Tanh", [arg])
    else:
        # 0.5 * x * (1 + erf(x / sqrt(2)))
        core = ctx.node(
            "Erf", [ctx.node("Mul", [x, ctx.scalar(math.sqrt(0.5), ctx.dtype(op, 0))])]
        )
    half_x = ctx.node("Mul", [x, ctx.scalar(0.5, ctx.dtype(op, 0))])
    ctx.node(
        "Mul",
        [half_x, ctx.node("Add", [core, ctx.scalar(1, ctx.dtype(op, 0))])],
        [ctx.out(op)],
    )


@register("pd_op.gelu", since=20)
def gelu_20(ctx, op):
    """Map to Gelu with approximate 'none' (erf) or 'tanh'."""
    mode = "tanh" if op.attrs.get("approximate") else "none"
    ctx.node("Gelu", [ctx.input(op, 0)], [ctx.out(op)], approximate=mode)


def _along_axis(ctx, op, onnx_op, flattens):
    """Apply a softmax-like ``onnx_op`` along Paddle's ``axis``.

    Before opset 13 these ops flatten the input to 2-D at ``axis`` and normalise over
    all trailing dims together, which is Paddle's softmax only when ``axis`` is the
    last dim; for any other axis it is moved last and back. A 0-d input (Paddle treats
    it as one element) goes through a 1-element vector, since ONNX has no axis there.
    """
    x, rank = ctx.input(op, 0), ctx.rank(op, 0)
    if rank == 0:
        y = ctx.node(onnx_op, [ctx.node("Reshape", [x, ctx.int64s([1])])], axis=0)
        ctx.node("Reshape", [y, ctx.int64s([])], [ctx.out(op)])
        return
    axis = op.attrs.get("axis", -1) % rank
    if not flattens or axis == rank - 1:
        ctx.node(onnx_op, [x], [ctx.out(op)], axis=axis)
        return
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    moved = ctx.node(onnx_op, [ctx.node("Transpose", [x], perm=perm)], axis=rank - 1)
    # Swapping two dims is its own inverse.
    ctx.node("Transpose", [moved], [ctx.out(op)], perm=perm)


@register("pd_op.softmax")
def softmax(ctx, op):
    """Honour ``axis`` (negative included) with Softmax over the last dim."""
    _along_axis(ctx, op, "Softmax", flattens=True)


@register("pd_op.softmax", since=13)
def softmax_13(ctx, op):
    """Honour ``axis`` (negative included) with Softmax's own axis."""
    _along_axis(ctx, op, "Softmax", flattens=False)


@register("pd_op.log_softmax")
def log_softmax(ctx, op):
    """Honour ``axis`` (negative included) with LogSoftmax over the last dim."""
    _along_axis(ctx, op, "LogSoftmax", flattens=True)


@register("pd_op.log_softmax", since=13)
def log_softmax_13(ctx, op):
    """Honour ``axis`` (negative included) with LogSoftmax's own axis."""
    _along_axis(ctx, op, "LogSoftmax", flattens=False)
