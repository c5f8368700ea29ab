"""Elementwise arithmetic: add, subtract, multiply, divide, and scale.

Paddle broadcasts the binary ops like numpy (the PIR ops carry no axis attribute), which
is what ONNX's binary ops do as well.
"""

import numpy as np

from harness.export.registry import Unsupported, register, register_direct

_BINARY = {
    "pd_op.add": "Add",
    "pd_op.subtract": "Sub",
    "pd_op.multiply": "Mul",
}


register_direct(_BINARY, __name__)


@register("pd_op.divide")
def divide(ctx, op):
    """Map float division to Div; reject integer operands.

    Paddle's API casts integer operands to float32 before ``pd_op.divide`` (measured for
    ``paddle.divide`` and ``_C_ops.divide`` on int32/int64), so a traced program never
    divides integers and there is no case to prove a rounding rule against.
    """
    dtype = ctx.dtype(op, 0)
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise Unsupported(f"integer divide ({dtype}) has no case to verify its rounding")
    ctx.node("Div", [ctx.input(op, 0), ctx.input(op, 1)], [ctx.out(op)])


@register("pd_op.scale")
def scale(ctx, op):
    """Compute x * scale + bias, or (x + bias) * scale when ``bias_after_scale`` is False.

    The ``scale`` operand may be a runtime tensor. Paddle's kernel converts scale and bias
    to the dtype of x first, so for integer x both truncate toward zero (2.5 -> 2), as
    numpy's astype and ONNX Runtime's Cast do. A factor of 1 is left out (exact); a bias
    of 0 only for integers, since a float -0.0 + 0 is +0.0 in Paddle too.
    """
    x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    factor = ctx.const(op, 1)
    if factor is None:
        # A 1-element tensor; made 0-d so that it keeps the rank of a 0-d x.
        cast = ctx.cast(ctx.input(op, 1), dtype)
        factor = ctx.node("Reshape", [cast, ctx.int64s([])])
    elif np.asarray(factor).astype(dtype).reshape(-1).tolist() == [1]:
        factor = None
    else:
        factor = ctx.scalar(np.asarray(factor).reshape(()), dtype)
    bias = np.asarray(op.attrs.get("bias", 0.0)).astype(dtype)
    if bias == 0 and not np.issubdtype(bias.dtype, np.floating):
        bias = None
    else:
        bias = ctx.scalar(bias, dtype)

    steps = [("Mul", factor), ("Add", bias)]
    if not op.attrs.get("bias_after_scale", True):
        steps.reverse()
    steps = [(kind, operand) for kind, operand in steps if operand is not None]
    if not steps:
        ctx.alias(ctx.out(op), x)
        return
    for i, (kind, operand) in enumerate(steps):
        last = i == len(steps) - 1
        x = ctx.node(kind, [x, operand], [ctx.out(op)] if last else 1)
