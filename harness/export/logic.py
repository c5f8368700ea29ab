"""Comparisons, logical and bitwise ops, and where.

Paddle broadcasts these like numpy (the PIR ops carry no axis attribute), as ONNX's
binary ops do. ONNX Runtime's CPU provider has no bool kernels for Less, Greater,
LessOrEqual, GreaterOrEqual or Where, so bool operands take a detour there.
"""

import numpy as np

from harness.export.registry import Unsupported, register


def _operands(ctx, op, n=2):
    """Return the first ``n`` operands, cast bool -> int32 where the ONNX op lacks bool."""
    names = [ctx.input(op, i) for i in range(n)]
    if ctx.dtype(op, 0) == "bool":
        names = [ctx.cast(name, "int32") for name in names]
    return names


# Paddle's float equal is |x - y| < 1e-15 (measured on 3.3.1: 9.99e-16 apart is equal,
# 1e-15 apart is not, in float32 and float64 alike), except that infinities compare
# exactly and NaN equals nothing. Or(Equal, |x - y| < 1e-15) gives all three: inf - inf
# is NaN and NaN < 1e-15 is False. The difference of two floats that close is exact, so
# computing it in the operand dtype loses nothing.
_EQUAL_WITHIN = 1e-15


def _equal(ctx, op, out=1) -> str:
    x, y = ctx.input(op, 0), ctx.input(op, 1)
    dtype = ctx.dtype(op, 0)
    if not dtype.startswith("float"):
        return ctx.node("Equal", [x, y], out)
    gap = ctx.node("Abs", [ctx.node("Sub", [x, y])])
    within = ctx.const_tensor(np.asarray(_EQUAL_WITHIN, dtype=dtype))
    close = ctx.node("Less", [gap, within])
    return ctx.node("Or", [ctx.node("Equal", [x, y]), close], out)


@register("pd_op.equal")
def equal(ctx, op):
    """Map to Equal; for floats also call values less than 1e-15 apart equal, as Paddle."""
    _equal(ctx, op, [ctx.out(op)])


@register("pd_op.not_equal")
def not_equal(ctx, op):
    """Map to Not of Paddle's equal (so NaN != NaN is True, as in Paddle)."""
    ctx.node("Not", [_equal(ctx, op)], [ctx.out(op)])


def _compare(onnx_op):
    def convert(ctx, op):
        ctx.node(onnx_op, _operands(ctx, op), [ctx.out(op)])

    convert.__doc__ = f"Map to {onnx_op} (exact, unlike Paddle's equal); no attributes."
    return convert


register("pd_op.less_than")(_compare("Less"))
register("pd_op.greater_than")(_compare("Greater"))
register("pd_op.less_equal", since=12)(_compare("LessOrEqual"))
register("pd_op.greater_equal", since=12)(_compare("GreaterOrEqual"))


def _or_equal(strict):
    def convert(ctx, op):
        # Not(Greater) would be True where an operand is NaN; Paddle says False there.
        x, y = _operands(ctx, op)
        either = [ctx.node(strict, [x, y]), ctx.node("Equal", [x, y])]
        ctx.node("Or", either, [ctx.out(op)])

    convert.__doc__ = f"Compose Or({strict}, Equal): LessOrEqual/GreaterOrEqual need opset 12."
    return convert


register("pd_op.less_equal")(_or_equal("Less"))
register("pd_op.greater_equal")(_or_equal("Greater"))


def _as_bool(ctx, op, i):
    """Operand ``i`` as bool: Paddle's logical ops read any nonzero (NaN too) as True."""
    name = ctx.input(op, i)
    return name if ctx.dtype(op, i) == "bool" else ctx.cast(name, "bool")


def _logical(onnx_op, arity=2):
    def convert(ctx, op):
        ctx.node(onnx_op, [_as_bool(ctx, op, i) for i in range(arity)], [ctx.out(op)])

    convert.__doc__ = f"Map to {onnx_op} of the operands cast to bool; no attributes."
    return convert


register("pd_op.logical_and")(_logical("And"))
register("pd_op.logical_or")(_logical("Or"))
register("pd_op.logical_xor")(_logical("Xor"))
register("pd_op.logical_not")(_logical("Not", arity=1))

_BITWISE = {
    "pd_op.bitwise_and": ("And", "BitwiseAnd"),
    "pd_op.bitwise_or": ("Or", "BitwiseOr"),
    "pd_op.bitwise_xor": ("Xor", "BitwiseXor"),
    "pd_op.bitwise_not": ("Not", "BitwiseNot"),
}


def _bitwise(logical_op, bitwise_op, arity, since):
    def convert(ctx, op):
        operands = [ctx.input(op, i) for i in range(arity)]
        if ctx.dtype(op, 0) == "bool":
            ctx.node(logical_op, operands, [ctx.out(op)])
        elif since < 18:
            raise Unsupported(
                f"{op.name} on integers needs {bitwise_op}, which arrives in opset 18",
                needs_opset=18,
            )
        else:
            ctx.node(bitwise_op, operands, [ctx.out(op)])

    ints = (
        f"integers to {bitwise_op}" if since >= 18 else f"reject integers ({bitwise_op} is 18)"
    )
    convert.__doc__ = f"Map bool operands to {logical_op}, {ints}; no attributes."
    return convert


for _name, (_logical_op, _bitwise_op) in _BITWISE.items():
    _arity = 1 if _logical_op == "Not" else 2
    register(_name)(_bitwise(_logical_op, _bitwise_op, _arity, since=11))
    register(_name, since=18)(_bitwise(_logical_op, _bitwise_op, _arity, since=18))


@register("pd_op.where")
def where(ctx, op):
    """Map to Where(condition, x, y); bool x and y compose And/Or (no bool Where kernel)."""
    cond, x, y = (ctx.input(op, i) for i in range(3))
    if ctx.dtype(op, 1) != "bool":
        ctx.node("Where", [cond, x, y], [ctx.out(op)])
        return
    picked = ctx.node("And", [cond, x])
    other = ctx.node("And", [ctx.node("Not", [cond]), y])
    ctx.node("Or", [picked, other], [ctx.out(op)])
