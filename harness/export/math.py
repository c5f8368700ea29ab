"""Elementwise math: unary functions, rounding, powers, division remainders, clip, cumsum.

Where Paddle's kernel is a closed formula that ONNX has no single op for (softplus, mish,
log_sigmoid, floor_divide, remainder...), the composition follows Paddle's formula step
by step, including its rounding, so what is left is float rounding of the same steps.
"""

import numpy as np

from harness.export.builder import onnx_dtype
from harness.export.registry import Unsupported, register, register_direct


def _is_float(dtype: str) -> bool:
    return str(dtype).startswith(("float", "bfloat"))


def _const(ctx, value, dtype):
    """A 0-d constant of ``dtype``, so that it keeps the rank of whatever it meets."""
    return ctx.const_tensor(np.asarray(value).astype(dtype))


# --- unary functions ------------------------------------------------------------------

_UNARY = {
    "pd_op.log": "Log",
    "pd_op.sin": "Sin",
    "pd_op.cos": "Cos",
    "pd_op.tan": "Tan",
    "pd_op.asin": "Asin",
    "pd_op.acos": "Acos",
    "pd_op.atan": "Atan",
    "pd_op.sinh": "Sinh",
    "pd_op.cosh": "Cosh",
    "pd_op.reciprocal": "Reciprocal",
    "pd_op.erf": "Erf",
    "pd_op.sign": "Sign",
    "pd_op.softsign": "Softsign",
}


register_direct(_UNARY, __name__)


def _log_base(base):
    def convert(ctx, op):
        x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
        scale = _const(ctx, 1 / np.log(base), dtype)
        ctx.node("Mul", [ctx.node("Log", [x]), scale], [ctx.out(op)])

    convert.__doc__ = f"Compute Log(x) / ln({base}); the op has no attributes."
    return convert


register("pd_op.log2")(_log_base(2))
register("pd_op.log10")(_log_base(10))


@register("pd_op.log1p")
def log1p(ctx, op):
    """Compute log(1 + x) without losing a tiny x: Log(1 + x) alone returns 0 for
    x = 1e-8 in float32, where Paddle's log1p returns 1e-8.

    With u = 1 + x rounded, log(u) * x / (u - 1) is accurate to a few ulps (the rounding
    of u cancels out); x itself where u rounds to 1, and log(u) where u - 1 == x (large
    x and infinity, where x / (u - 1) would be inf / inf).
    """
    x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    one = _const(ctx, 1, dtype)
    u = ctx.node("Add", [x, one])
    d = ctx.node("Sub", [u, one])
    ratio = ctx.node("Where", [ctx.node("Equal", [d, x]), one, ctx.node("Div", [x, d])])
    scaled = ctx.node("Mul", [ctx.node("Log", [u]), ratio])
    tiny = ctx.node("Equal", [d, _const(ctx, 0, dtype)])
    ctx.node("Where", [tiny, x, scaled], [ctx.out(op)])


@register("pd_op.rsqrt")
def rsqrt(ctx, op):
    """Compute Reciprocal(Sqrt(x)) (so -0.0 gives -inf, as in Paddle)."""
    ctx.node("Reciprocal", [ctx.node("Sqrt", [ctx.input(op, 0)])], [ctx.out(op)])


@register("pd_op.square")
def square(ctx, op):
    """Compute x * x (integers wrap as in Paddle's kernel)."""
    x = ctx.input(op, 0)
    ctx.node("Mul", [x, x], [ctx.out(op)])


def _rounding(onnx_op):
    def convert(ctx, op):
        x = ctx.input(op, 0)
        if not _is_float(ctx.dtype(op, 0)):
            # Paddle keeps integers as they are; ONNX's Floor/Ceil take floats only.
            ctx.alias(ctx.out(op), x)
            return
        ctx.node(onnx_op, [x], [ctx.out(op)])

    convert.__doc__ = f"Map floats to {onnx_op}; integers pass through unchanged."
    return convert


register("pd_op.floor")(_rounding("Floor"))
register("pd_op.ceil")(_rounding("Ceil"))


@register("pd_op.round")
def round_(ctx, op):
    """Round half to even, as Paddle's kernel does (measured: 0.5 -> 0, 2.5 -> 2).

    Honours ``decimals`` the way Paddle computes it, bit for bit (measured on 200k values
    per setting): round(x * 10^d) / 10^d for d > 0 and round(x / 10^-d) * 10^-d for
    d < 0, with 10^|d| in the dtype of x. Integers pass through unchanged at any
    ``decimals``, as Paddle leaves them.
    """
    x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    decimals = int(op.attrs.get("decimals", 0))
    if not _is_float(dtype):
        ctx.alias(ctx.out(op), x)
        return
    if decimals == 0:
        ctx.node("Round", [x], [ctx.out(op)])
        return
    factor = _const(ctx, 10.0 ** abs(decimals), dtype)
    into, back = ("Mul", "Div") if decimals > 0 else ("Div", "Mul")
    rounded = ctx.node("Round", [ctx.node(into, [x, factor])])
    ctx.node(back, [rounded, factor], [ctx.out(op)])


def _float_check(onnx_op):
    def convert(ctx, op):
        x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
        if not _is_float(dtype):
            # Integers are never NaN or infinite; Equal(x, x) is an all-True of x's shape.
            same = ctx.node("Equal", [x, x])
            if onnx_op == "IsFinite":
                ctx.alias(ctx.out(op), same)
            else:
                ctx.node("Not", [same], [ctx.out(op)])
            return
        if onnx_op != "IsFinite":
            ctx.node(onnx_op, [x], [ctx.out(op)])
            return
        special = ctx.node("Or", [ctx.node("IsNaN", [x]), ctx.node("IsInf", [x])])
        ctx.node("Not", [special], [ctx.out(op)])

    convert.__doc__ = f"Map floats to {onnx_op}; integers give a constant answer."
    return convert


register("pd_op.isnan")(_float_check("IsNaN"))
register("pd_op.isinf")(_float_check("IsInf"))
register("pd_op.isfinite")(_float_check("IsFinite"))


# --- activation-like functions ----------------------------------------------------------


def _softplus_term(ctx, x, dtype):
    """Paddle's log(1 + exp(x)), term by term: not ONNX's Softplus, which is more accurate
    for very negative x (Paddle returns 0 for x = -30 in float32, Softplus 9e-14)."""
    return ctx.node("Log", [ctx.node("Add", [ctx.node("Exp", [x]), _const(ctx, 1, dtype)])])


@register("pd_op.softplus")
def softplus(ctx, op):
    """Honour ``beta`` and ``threshold``: x where beta * x > threshold, else
    log(1 + exp(beta * x)) / beta, as Paddle's kernel computes it."""
    x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    beta = _const(ctx, float(op.attrs.get("beta", 1.0)), dtype)
    threshold = _const(ctx, float(op.attrs.get("threshold", 20.0)), dtype)
    scaled = ctx.node("Mul", [x, beta])
    smooth = ctx.node("Div", [_softplus_term(ctx, scaled, dtype), beta])
    above = ctx.node("Greater", [scaled, threshold])
    ctx.node("Where", [above, x, smooth], [ctx.out(op)])


@register("pd_op.mish")
def mish(ctx, op):
    """Compute x * tanh(sp) with sp = x above ``lambda`` (Paddle's threshold), else
    log(1 + exp(x)), as Paddle's kernel does (Mish in opset 18 has no threshold)."""
    x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    threshold = _const(ctx, float(op.attrs.get("lambda", 20.0)), dtype)
    above = ctx.node("Greater", [x, threshold])
    sp = ctx.node("Where", [above, x, _softplus_term(ctx, x, dtype)])
    ctx.node("Mul", [x, ctx.node("Tanh", [sp])], [ctx.out(op)])


@register("pd_op.logsigmoid")
def logsigmoid(ctx, op):
    """Compute Paddle's stable form -t - log(exp(-t) + exp(-x - t)) with t = max(-x, 0)."""
    x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    neg_x = ctx.node("Neg", [x])
    t = ctx.node("Max", [neg_x, _const(ctx, 0, dtype)])
    total = ctx.node(
        "Add",
        [
            ctx.node("Exp", [ctx.node("Neg", [t])]),
            ctx.node("Exp", [ctx.node("Sub", [neg_x, t])]),
        ],
    )
    ctx.node("Sub", [ctx.node("Neg", [t]), ctx.node("Log", [total])], [ctx.out(op)])


@register("pd_op.selu")
def selu(ctx, op):
    """Map to Selu with Paddle's ``scale`` as gamma and ``alpha`` as alpha."""
    ctx.node(
        "Selu",
        [ctx.input(op, 0)],
        [ctx.out(op)],
        alpha=float(op.attrs["alpha"]),
        gamma=float(op.attrs["scale"]),
    )


@register("pd_op.hardtanh")
def hardtanh(ctx, op):
    """Clip to [``t_min``, ``t_max``], as pd_op.clip does with constant bounds."""
    x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    low = _const(ctx, float(op.attrs["t_min"]), dtype)
    high = _const(ctx, float(op.attrs["t_max"]), dtype)
    _clamp(ctx, x, low, high, dtype, [ctx.out(op)])


@register("pd_op.hardshrink")
def hardshrink(ctx, op):
    """Keep x where |x| >= ``threshold``, else 0.

    Paddle keeps x = +-threshold (measured: hardshrink(0.5, 0.5) is 0.5), where ONNX's
    Shrink, strict on both sides, gives 0; hence the composition.
    """
    x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    t = _const(ctx, float(op.attrs["threshold"]), dtype)
    inside = ctx.node("Less", [ctx.node("Abs", [x]), t])
    ctx.node("Where", [inside, _const(ctx, 0, dtype), x], [ctx.out(op)])


@register("pd_op.softshrink")
def softshrink(ctx, op):
    """Compute x - t above t, x + t below -t, else 0, for t = ``threshold``.

    Not ONNX's Shrink, whose float64 kernel in ONNX Runtime adds the bias in float32
    (measured: -3.472533215999011 + 0.5 comes out as -2.9725332260131836).
    """
    x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    value = float(op.attrs["threshold"])
    t, minus_t = _const(ctx, value, dtype), _const(ctx, -value, dtype)
    below = ctx.node(
        "Where",
        [ctx.node("Less", [x, minus_t]), ctx.node("Add", [x, t]), _const(ctx, 0, dtype)],
    )
    above = ctx.node("Greater", [x, t])
    ctx.node("Where", [above, ctx.node("Sub", [x, t]), below], [ctx.out(op)])


@register("pd_op.thresholded_relu")
def thresholded_relu(ctx, op):
    """Honour ``threshold`` and ``value``: x where x > threshold, else value (ONNX's
    ThresholdedRelu has no value, and no float64 kernel in ONNX Runtime below 22)."""
    x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    above = ctx.node("Greater", [x, _const(ctx, float(op.attrs["threshold"]), dtype)])
    fill = _const(ctx, float(op.attrs.get("value", 0.0)), dtype)
    ctx.node("Where", [above, x, fill], [ctx.out(op)])


@register("pd_op.tanh_shrink")
def tanh_shrink(ctx, op):
    """Compute x - tanh(x)."""
    x = ctx.input(op, 0)
    ctx.node("Sub", [x, ctx.node("Tanh", [x])], [ctx.out(op)])


@register("pd_op.prelu")
def prelu(ctx, op):
    """Map to PRelu with the weight laid out to broadcast as Paddle's ``mode`` says.

    ``channel``: one slope per channel, dim 1 for NCHW-like ``data_format`` and the last
    dim for NHWC-like; ``element``: one slope per element of a sample; ``all``: one.
    """
    x, w = ctx.input(op, 0), ctx.input(op, 1)
    rank, mode = ctx.rank(op, 0), op.attrs.get("mode", "all")
    if mode == "all":
        shape = []
    elif mode == "channel":
        channels_last = op.attrs.get("data_format", "NCHW") in ("NHWC", "NLC", "NDHWC")
        shape = [-1] if channels_last else [-1] + [1] * (rank - 2)
    elif mode == "element":
        dims = ctx.in_value(op, 0).shape[1:]
        if any(d is None for d in dims):
            raise Unsupported("prelu mode 'element' needs static non-batch dims")
        shape = [1, *dims]
    else:
        raise Unsupported(f"prelu mode {mode!r} is not one of all, channel, element")
    slope = ctx.node("Reshape", [w, ctx.int64s(shape)])
    ctx.node("PRelu", [x, slope], [ctx.out(op)])


# --- powers -----------------------------------------------------------------------------


def _int_power(ctx, x, n: int, dtype, out: str):
    """Write x ** n for an integer x and a constant n >= 0 to ``out``, by repeated
    squaring: integer products wrap the same in whatever order they are taken, so this
    is Paddle's integer loop exactly, overflow included."""
    factors, square = [], x
    while n:
        if n & 1:
            factors.append(square)
        n >>= 1
        if n:
            square = ctx.node("Mul", [square, square])
    if not factors:
        # x ** 0 is 1 everywhere, 0 ** 0 included.
        zeros = ctx.node("Mul", [x, _const(ctx, 0, dtype)])
        ctx.node("Add", [zeros, _const(ctx, 1, dtype)], [out])
        return
    if len(factors) == 1:
        ctx.alias(out, factors[0])
        return
    product = factors[0]
    for i, factor in enumerate(factors[1:], 2):
        product = ctx.node("Mul", [product, factor], [out] if i == len(factors) else 1)


@register("pd_op.pow")
def pow_(ctx, op):
    """Raise x to the float attribute ``y``.

    Floats map to Pow. For integers Paddle truncates ``y`` to an integer (2.5 -> 2,
    measured) and multiplies in the integer type; a negative ``y`` is rejected, since
    Paddle's integer kernel never returns for one (measured: it hangs).
    """
    x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    y = float(op.attrs["y"])
    if _is_float(dtype):
        ctx.node("Pow", [x, _const(ctx, y, dtype)], [ctx.out(op)])
        return
    if y < 0:
        raise Unsupported(f"integer pow with a negative exponent ({y}) has no result")
    _int_power(ctx, x, int(y), dtype, ctx.out(op))


@register("pd_op.elementwise_pow")
def elementwise_pow(ctx, op):
    """Raise x to the tensor y (numpy broadcasting).

    Floats map to Pow. Paddle's CPU kernel computes integers as std::pow in double, then
    converts back with a C++ cast; Cast -> Pow -> Cast does the same. Results that do not
    fit the integer type (0 ** -1 is inf, say) are undefined in C++ and not matched.
    """
    x, y, dtype = ctx.input(op, 0), ctx.input(op, 1), ctx.dtype(op, 0)
    if _is_float(dtype):
        ctx.node("Pow", [x, y], [ctx.out(op)])
        return
    power = ctx.node("Pow", [ctx.cast(x, "float64"), ctx.cast(y, "float64")])
    ctx.node("Cast", [power], [ctx.out(op)], to=onnx_dtype(dtype))


# --- maximum, minimum, floor_divide, remainder ----------------------------------------


def _extremum(onnx_op, pick):
    def convert(ctx, op):
        x, y, dtype = ctx.input(op, 0), ctx.input(op, 1), ctx.dtype(op, 0)
        if ctx.opset < 12 and dtype != "float32" and dtype != "float64":
            # Max/Min-8 have float kernels only; Where(x > y, x, y) is exact for integers.
            ctx.node("Where", [ctx.node(pick, [x, y]), x, y], [ctx.out(op)])
            return
        ctx.node(onnx_op, [x, y], [ctx.out(op)])

    convert.__doc__ = (
        f"Map to {onnx_op} (NaN wins, as in Paddle); integers below opset 12 compose "
        f"Where({pick})."
    )
    return convert


register("pd_op.maximum")(_extremum("Max", "Greater"))
register("pd_op.minimum")(_extremum("Min", "Less"))


def _sign_differs(ctx, a, b, dtype):
    zero = _const(ctx, 0, dtype)
    return ctx.node("Xor", [ctx.node("Less", [a, zero]), ctx.node("Less", [b, zero])])


def _python_mod(ctx, x, y, dtype, out=1):
    """fmod(x, y), moved by y where it is nonzero and its sign differs from y's."""
    r = ctx.node("Mod", [x, y], fmod=1)
    nonzero = ctx.node("Not", [ctx.node("Equal", [r, _const(ctx, 0, dtype)])])
    fix = ctx.node("And", [nonzero, _sign_differs(ctx, r, y, dtype)])
    return ctx.node("Where", [fix, ctx.node("Add", [r, y]), r], out)


@register("pd_op.remainder")
def remainder(ctx, op):
    """Compute x mod y with the sign of y (Python's %).

    Integers map to Mod(fmod=0), which is that rule. Paddle's float kernel is fmod with a
    fix-up (r += y where r != 0 and its sign differs from y's); the same steps are
    composed on Mod(fmod=1), so -0.0 % 2 stays -0.0 and x % 0 is NaN, as in Paddle.
    """
    x, y, dtype = ctx.input(op, 0), ctx.input(op, 1), ctx.dtype(op, 0)
    if not _is_float(dtype):
        ctx.node("Mod", [x, y], [ctx.out(op)], fmod=0)
        return
    _python_mod(ctx, x, y, dtype, [ctx.out(op)])


@register("pd_op.floor_divide")
def floor_divide(ctx, op):
    """Divide rounding toward negative infinity, following Paddle's kernels step by step.

    Integers: truncating Div, minus 1 where the signs differ and the division is not
    exact. Floats: Python's algorithm, which Paddle's kernel copies: div = (x - fmod(x,
    y)) / y, less 1 when fmod's sign differs from y's, then floor, rounded up when more
    than 0.5 below div (so 1.0 // 0.1 is 9, where floor(1.0 / 0.1) is 10); a zero
    quotient takes the sign of x / y, and y == 0 gives x / y.
    """
    x, y, dtype = ctx.input(op, 0), ctx.input(op, 1), ctx.dtype(op, 0)
    if not _is_float(dtype):
        q = ctx.node("Div", [x, y])
        inexact = ctx.node("Not", [ctx.node("Equal", [ctx.node("Mul", [q, y]), x])])
        fix = ctx.node("And", [inexact, _sign_differs(ctx, x, y, dtype)])
        ctx.node("Sub", [q, ctx.cast(fix, dtype)], [ctx.out(op)])
        return
    zero = _const(ctx, 0, dtype)
    mod = ctx.node("Mod", [x, y], fmod=1)
    div = ctx.node("Div", [ctx.node("Sub", [x, mod]), y])
    nonzero = ctx.node("Not", [ctx.node("Equal", [mod, zero])])
    fix = ctx.node("And", [nonzero, _sign_differs(ctx, y, mod, dtype)])
    div = ctx.node("Sub", [div, ctx.cast(fix, dtype)])
    floor = ctx.node("Floor", [div])
    up = ctx.node("Greater", [ctx.node("Sub", [div, floor]), _const(ctx, 0.5, dtype)])
    floor = ctx.node("Add", [floor, ctx.cast(up, dtype)])
    quotient = ctx.node("Div", [x, y])
    # Where div is 0, |x / y| < 1, so x / y * 0 is a zero with the sign of x / y.
    signed_zero = ctx.node("Mul", [quotient, zero])
    result = ctx.node("Where", [ctx.node("Equal", [div, zero]), signed_zero, floor])
    by_zero = ctx.node("Equal", [y, zero])
    ctx.node("Where", [by_zero, quotient, result], [ctx.out(op)])


# --- clip, cumsum -------------------------------------------------------------------------


def _saturate(value, dtype):
    """Convert a float bound to ``dtype`` as a C++ cast does where that is defined:
    integers truncate toward zero; out-of-range values (undefined in C++) saturate."""
    value = float(np.asarray(value).reshape(-1)[0])
    if _is_float(dtype):
        return np.asarray(value).astype(dtype)
    info = np.iinfo(dtype)
    if np.isnan(value):
        raise Unsupported("clip bound is NaN for an integer tensor")
    return np.asarray(min(max(value, info.min), info.max)).astype(dtype)


def _bound(ctx, op, i, dtype):
    """Clip bound ``i`` (a [1] float32 tensor) as a 0-d value of the dtype of x."""
    value = ctx.const(op, i)
    if value is not None:
        return ctx.const_tensor(_saturate(value, dtype))
    bound = ctx.input(op, i)
    if ctx.dtype(op, i) != dtype:
        bound = ctx.cast(bound, dtype)
    return ctx.node("Reshape", [bound, ctx.int64s([])])


# The dtypes ONNX Runtime's CPU provider has Clip kernels for: Clip-11 takes float32 only.
_CLIP_KERNELS = {11: ("float32",), 12: ("float32", "float64", "int32", "int64")}


def _clamp(ctx, x, low, high, dtype, out):
    """Clip x to [low, high] (0-d bounds of its dtype), with Clip where it has a kernel."""
    if dtype in _CLIP_KERNELS[12 if ctx.opset >= 12 else 11]:
        ctx.node("Clip", [x, low, high], out)
        return
    # Paddle's kernel, x < min ? min : (x > max ? max : x), which is Clip whenever
    # min <= max, and Paddle's kernel refuses min > max.
    raised = ctx.node("Where", [ctx.node("Less", [x, low]), low, x])
    ctx.node("Where", [ctx.node("Greater", [raised, high]), high, raised], out)


@register("pd_op.clip")
def clip(ctx, op):
    """Clip to the min and max operands, constants or run-time tensors; Clip where ONNX
    Runtime has a kernel for the dtype at the opset, a Where composition elsewhere."""
    x, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    low, high = _bound(ctx, op, 1, dtype), _bound(ctx, op, 2, dtype)
    _clamp(ctx, x, low, high, dtype, [ctx.out(op)])


@register("pd_op.cumsum")
def cumsum(ctx, op):
    """Map to CumSum, honouring ``exclusive``, ``reverse`` and ``flatten`` (sum over the
    flattened tensor, a 1-D result); the ``axis`` operand must be a constant.

    Paddle's exclusive cumsum returns a one-element tensor unchanged where the sum is 0
    (measured on every shape of one element, 0-d included; two elements and more are
    right), and the export does the same, at run time where the shape is dynamic.
    """
    source, rank = ctx.input(op, 0), ctx.rank(op, 0)
    flatten = bool(op.attrs.get("flatten", False))
    exclusive = bool(op.attrs.get("exclusive"))
    x, axis = source, 0
    if flatten or rank == 0:
        x = ctx.node("Reshape", [source, ctx.int64s([-1])])
    else:
        axis = int(np.asarray(ctx.require_const(op, 1, "cumsum axis")).reshape(-1)[0])
    shape = ctx.in_value(op, 0).shape
    if exclusive and None not in shape and int(np.prod(shape, dtype=np.int64)) == 1:
        summed = x
    else:
        axis = ctx.const_tensor(np.asarray(axis, dtype=np.int64))
        reverse = int(bool(op.attrs.get("reverse")))
        summed = ctx.node("CumSum", [x, axis], exclusive=int(exclusive), reverse=reverse)
        if exclusive and None in shape:
            single = ctx.node("Equal", [ctx.node("Size", [source]), _const(ctx, 1, "int64")])
            summed = ctx.node("Where", [single, x, summed])
    if rank == 0 and not flatten:
        # A 0-d x went through a 1-element vector; the result is 0-d again.
        summed = ctx.node("Reshape", [summed, ctx.int64s([])])
    ctx.alias(ctx.out(op), summed)
