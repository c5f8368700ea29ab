"""Cases for harness/export/math.py."""

import math

import numpy as np
import paddle
import paddle.nn.functional as F
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from harness.cases import OpCase, case_tests
from harness.cases.strategies import (
    Input,
    binary_program,
    dynamic_subset,
    floats,
    fn_layer,
    program,
    shapes,
)

# float64 is claimed where ONNX Runtime's CPU provider has float64 kernels for every ONNX
# op of the mapping at every opset it runs (none for Tan, Asin, Acos, Atan, Sinh, Cosh,
# Erf, Softsign or Selu, and none for PRelu before 16); integers where Paddle's CPU kernel
# keeps them integer.
_F32 = ("float32",)
_FLOATS = ("float32", "float64")
_NUMBERS = ("float32", "float64", "int32", "int64")
_NAN, _INF = math.nan, math.inf


def values(low=-4.0, high=4.0, special=(), int_low=-100, int_high=100):
    """Return a function of the dtype giving the element strategy for it.

    Floats: ``special`` values (edge cases, in the dtype's exact representation) mixed
    with floats in [low, high]; integers: [int_low, int_high].
    """

    def of(dtype):
        if not dtype.startswith("float"):
            return st.integers(int_low, int_high)
        exact = np.dtype(dtype).type
        spread = floats(float(exact(low)), float(exact(high)), dtype)
        if not special:
            return spread
        picks = sorted({float(exact(v)) for v in special}, key=repr)
        return st.one_of(st.sampled_from(picks), spread)

    return of


@st.composite
def unary_programs(draw, make_layer, dtypes=_F32, elements=values(), min_rank=0):
    """Draw a rank 0-4 input, which dims are dynamic, and a layer from ``make_layer``.

    ``make_layer(draw, rank)`` returns ``(layer, attrs)``.
    """
    shape = draw(shapes(min_rank, 4))
    names = tuple(f"d{i}" for i in range(len(shape)))
    dtype = draw(st.sampled_from(dtypes))
    layer, attrs = make_layer(draw, len(shape))
    return program(
        draw,
        layer,
        [Input("x", names, dtype, elements=elements(dtype))],
        dict(zip(names, shape)),
        dynamic_subset(draw, names),
        attrs={**attrs, "shape": shape, "dtype": dtype},
    )


@st.composite
def binary_programs(draw, fn, dtypes, x_values, y_values=None):
    """Draw x and y whose shapes broadcast against each other, a batch dim maybe dynamic."""
    dtype = draw(st.sampled_from(dtypes))
    y_values = y_values or x_values
    return binary_program(draw, fn_layer(fn), dtype, x_values(dtype), y_values(dtype))


def _fixed(fn):
    """A make_layer for an op without attributes."""
    return lambda draw, rank: (fn_layer(fn), {})


def _log(x):
    return paddle.log(x)


def _log2(x):
    return paddle.log2(x)


def _log10(x):
    return paddle.log10(x)


def _log1p(x):
    return paddle.log1p(x)


def _floor(x):
    return paddle.floor(x)


def _ceil(x):
    return paddle.ceil(x)


def _sin(x):
    return paddle.sin(x)


def _cos(x):
    return paddle.cos(x)


def _tan(x):
    return paddle.tan(x)


def _asin(x):
    return paddle.asin(x)


def _acos(x):
    return paddle.acos(x)


def _atan(x):
    return paddle.atan(x)


def _sinh(x):
    return paddle.sinh(x)


def _cosh(x):
    return paddle.cosh(x)


def _reciprocal(x):
    return paddle.reciprocal(x)


def _rsqrt(x):
    return paddle.rsqrt(x)


def _square(x):
    return paddle.square(x)


def _sign(x):
    return paddle.sign(x)


def _erf(x):
    return paddle.erf(x)


def _softsign(x):
    return F.softsign(x)


def _logsigmoid(x):
    return F.log_sigmoid(x)


def _tanh_shrink(x):
    return F.tanhshrink(x)


def _isnan(x):
    return paddle.isnan(x)


def _isinf(x):
    return paddle.isinf(x)


def _isfinite(x):
    return paddle.isfinite(x)


class Round(paddle.nn.Layer):
    def __init__(self, decimals):
        super().__init__()
        self.decimals = decimals

    def forward(self, x):
        return paddle.round(x, self.decimals)


def _round(draw, rank):
    decimals = draw(st.integers(-3, 4))
    return Round(decimals), {"decimals": decimals}


class Attrs(paddle.nn.Layer):
    """Call ``fn(x, *args)`` with the drawn attribute values ``args``."""

    def __init__(self, fn, *args):
        super().__init__()
        self.fn, self.args = fn, args

    def forward(self, x):
        return self.fn(x, *self.args)


def _softplus(draw, rank):
    beta = draw(st.one_of(st.just(1.0), st.floats(0.25, 4.0, width=32)))
    threshold = draw(st.one_of(st.just(20.0), st.floats(-5.0, 30.0, width=32)))
    return Attrs(F.softplus, beta, threshold), {"beta": beta, "threshold": threshold}


def _mish_op(x, threshold):
    return paddle._C_ops.mish(x, threshold)


def _default_mish(x):
    return F.mish(x)


def _mish(draw, rank):
    # F.mish always passes lambda=20; the kernel's threshold is drawn through _C_ops.
    if draw(st.booleans()):
        return fn_layer(_default_mish), {"lambda": 20.0}
    threshold = draw(st.floats(-5.0, 25.0, width=32))
    return Attrs(_mish_op, threshold), {"lambda": threshold}


def _default_selu(x):
    return F.selu(x)


def _selu(draw, rank):
    if draw(st.booleans()):
        return fn_layer(_default_selu), {"scale": "default", "alpha": "default"}
    scale = draw(st.floats(1.0, 3.0, exclude_min=True, width=32))
    alpha = draw(st.floats(0.0, 3.0, width=32))
    return Attrs(F.selu, scale, alpha), {"scale": scale, "alpha": alpha}


def _hardtanh(draw, rank):
    low = draw(st.floats(-4.0, 2.0, width=32))
    high = draw(st.floats(low, 4.0, width=32))
    return Attrs(F.hardtanh, low, high), {"min": low, "max": high}


def _threshold(low=0.0):
    return st.one_of(st.just(0.5), st.floats(low, 3.0, width=32))


def _hardshrink(draw, rank):
    # Paddle does not stop a negative threshold here (then every x is kept).
    t = draw(_threshold(-1.0))
    return Attrs(F.hardshrink, t), {"threshold": t}


def _softshrink(draw, rank):
    t = draw(_threshold())
    return Attrs(F.softshrink, t), {"threshold": t}


def _thresholded_relu(draw, rank):
    t = draw(st.one_of(st.just(1.0), st.floats(-3.0, 3.0, width=32)))
    value = draw(st.one_of(st.just(0.0), st.floats(-3.0, 3.0, width=32)))
    return Attrs(F.thresholded_relu, t, value), {"threshold": t, "value": value}


class Pow(paddle.nn.Layer):
    def __init__(self, y):
        super().__init__()
        self.y = y

    def forward(self, x):
        return paddle.pow(x, self.y)


def _pow(draw, rank):
    y = draw(
        st.one_of(st.sampled_from([2.0, 3.0, 0.5, -1.0, 0.0, 1.5, -2.5]), st.floats(-3, 3))
    )
    return Pow(y), {"y": y}


def _int_pow(draw, rank):
    # A fractional y is truncated for integer x; a negative one makes Paddle hang.
    y = draw(st.one_of(st.integers(0, 7).map(float), st.sampled_from([2.5, 1.9, 0.5])))
    return Pow(y), {"y": y}


class ScalarPow(paddle.nn.Layer):
    """``x ** y`` with a Python number: a 0-d pd_op.full operand of elementwise_pow."""

    def __init__(self, y):
        super().__init__()
        self.y = y

    def forward(self, x):
        return x**self.y


def _scalar_pow(draw, rank):
    y = draw(st.sampled_from([2.0, 0.5, 3.0, -1.0]))
    return ScalarPow(y), {"y": y}


def _elementwise_pow(x, y):
    return paddle.pow(x, y)


def _maximum(x, y):
    return paddle.maximum(x, y)


def _minimum(x, y):
    return paddle.minimum(x, y)


def _floor_divide(x, y):
    return paddle.floor_divide(x, y)


def _remainder(x, y):
    return paddle.remainder(x, y)


class Clip(paddle.nn.Layer):
    def __init__(self, low, high):
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x):
        return paddle.clip(x, self.low, self.high)


def _bounds(draw, integer):
    kind = st.integers(-5, 5) if integer else st.floats(-4.0, 4.0, width=32)
    low = draw(st.one_of(st.none(), kind))
    high = draw(st.one_of(st.none(), kind.filter(lambda v: low is None or v >= low)))
    return low, high


def _clip(draw, rank):
    low, high = _bounds(draw, integer=False)
    return Clip(low, high), {"min": low, "max": high}


def _int_clip(draw, rank):
    # Integer bounds keep an integer x integer; float ones make paddle.clip cast x first.
    low, high = _bounds(draw, integer=True)
    return Clip(low, high), {"min": low, "max": high}


def _tensor_clip(x, low, high):
    return paddle.clip(x, low, high)


@st.composite
def tensor_clip_programs(draw):
    """min and max as run-time tensors of shape [1] (the batch dim maybe dynamic)."""
    shape = draw(shapes(1, 4))
    names = tuple(f"d{i}" for i in range(len(shape)))
    dtype = draw(st.sampled_from(_FLOATS))
    low = draw(floats(-3.0, 0.0))
    high = draw(floats(low, 3.0))
    bounds = [
        Input(n, (1,), "float32", elements=st.just(v)) for n, v in (("lo", low), ("hi", high))
    ]
    return program(
        draw,
        fn_layer(_tensor_clip),
        [Input("x", names, dtype), *bounds],
        dict(zip(names, shape)),
        dynamic_subset(draw, names[:1]),
        attrs={"shape": shape, "dtype": dtype, "min": low, "max": high},
    )


def _cumsum_op(x, axis, flatten, exclusive, reverse):
    return paddle._C_ops.cumsum(x, axis, flatten, exclusive, reverse)


def _cumsum(draw, rank):
    # paddle.cumsum exposes only axis (None flattens); exclusive and reverse are drawn
    # through _C_ops, as paddle.static.nn and older models set them.
    flatten = draw(st.booleans())
    axis = (
        -1
        if flatten
        else draw(st.integers(-rank, rank - 1) if rank else st.sampled_from([0, -1]))
    )
    exclusive, reverse = draw(st.booleans()), draw(st.booleans())
    attrs = {"axis": axis, "flatten": flatten, "exclusive": exclusive, "reverse": reverse}
    return Attrs(_cumsum_op, axis, flatten, exclusive, reverse), attrs


class PReLU(paddle.nn.Layer):
    """paddle.nn.PReLU with drawn weights."""

    def __init__(self, weight, data_format):
        super().__init__()
        self.inner = paddle.nn.PReLU(weight.size, data_format=data_format)
        self.inner.parameters()[0].set_value(weight)

    def forward(self, x):
        return self.inner(x)


def _prelu_op(x, w, data_format, mode):
    return paddle._C_ops.prelu(x, w, data_format, mode)


class ElementPReLU(paddle.nn.Layer):
    """mode 'element' (one slope per element of a sample), as paddle.static.nn.prelu
    makes it; the dygraph API has no way to ask for it."""

    def __init__(self, weight):
        super().__init__()
        self.w = self.create_parameter(
            list(weight.shape), default_initializer=paddle.nn.initializer.Assign(weight)
        )

    def forward(self, x):
        return _prelu_op(x, self.w, "NCHW", "element")


@st.composite
def prelu_programs(draw):
    shape = draw(shapes(2, 4))
    names = tuple(f"d{i}" for i in range(len(shape)))
    mode = draw(st.sampled_from(["channel", "element", "all"]))
    channels_last = mode == "channel" and draw(st.booleans())
    data_format = "NHWC" if channels_last else "NCHW"
    slopes = floats(-2.0, 2.0)
    if mode == "element":
        weight = draw(hnp.arrays(np.float32, (1, *shape[1:]), elements=slopes))
        layer, fixed = ElementPReLU(weight), names[1:]
    else:
        size = 1 if mode == "all" else shape[-1 if data_format == "NHWC" else 1]
        weight = draw(hnp.arrays(np.float32, (size,), elements=slopes))
        formats = {2: ("NC", "NC"), 3: ("NCL", "NLC"), 4: ("NCHW", "NHWC")}
        data_format = formats[len(shape)][data_format == "NHWC"]
        layer = PReLU(weight, data_format)
        fixed = [] if mode == "all" else [names[-1 if data_format.endswith("C") else 1]]
    dynamic = [n for n in dynamic_subset(draw, names) if n not in fixed]
    return program(
        draw,
        layer,
        [Input("x", names, "float32")],
        dict(zip(names, shape)),
        dynamic,
        attrs={"shape": shape, "mode": mode, "data_format": data_format},
    )


# Edge values: halves for rounding (ties go to even in Paddle and ONNX alike, and
# 0.49999997 is the float32 just below 0.5), signed zeros and tiny values for the logs
# and reciprocals (exact inf and NaN positions are compared), NaN and infinities for the
# float checks and sign.
_HALVES = (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.49999997, 0.49999997, -3.5, 0.0, -0.0)
_NEAR_ZERO = (0.0, -0.0, 1e-30, -1e-30, 1e-7, 1.0, -1.0)
_SPECIAL = (_NAN, _INF, -_INF, 0.0, -0.0, 1.0, -2.5)
# Decimal ties and the classic 2.675 (2.67499995 in float32) for round(x, decimals).
_DECIMAL = (0.125, 0.135, 2.675, 15.0, 25.0, -35.0, 149.0, 0.5, 2.5, -0.05, 1234.5)
# Dividends and divisors whose signs differ, exact multiples, 1.0 // 0.1 and zeros.
_DIVIDENDS = (1.0, -1.0, 0.0, -0.0, 5.5, 7.0, -7.0, 6.0, 0.3)
_DIVISORS = (0.1, 0.3, -0.3, 3.0, -3.0, 2.0, -2.0, 7.0, 0.0)


def _no_negative_zero(of):
    """Draw +0.0 where ``of`` draws -0.0: Paddle's own -0.0 ** -1 is -inf in its scalar
    loop and +inf in its vector one (measured: index 7 of 8 elements gives +inf, of 9
    elements index 8 gives -inf), so no export can match both."""
    return lambda dtype: of(dtype).map(lambda v: v + 0.0 if v == 0 else v)


def _nonzero(low, high):
    return lambda dtype: st.integers(low, high).filter(bool)


_LOGS = values(-1.0, 100.0, _NEAR_ZERO)


def _divisors(dtype):
    """Divisors for floor_divide and remainder: edge floats, or nonzero integers."""
    if dtype.startswith("float"):
        return values(-10, 10, _DIVISORS)(dtype)
    return _nonzero(-7, 7)(dtype)


CASES = [
    OpCase("pd_op.log", "any", unary_programs(_fixed(_log), _FLOATS, _LOGS), "paddle.log"),
    OpCase("pd_op.log2", "any", unary_programs(_fixed(_log2), _FLOATS, _LOGS), "paddle.log2"),
    OpCase(
        "pd_op.log10", "any", unary_programs(_fixed(_log10), _FLOATS, _LOGS), "paddle.log10"
    ),
    OpCase(
        "pd_op.log1p",
        "any",
        unary_programs(
            _fixed(_log1p), _FLOATS, values(-2.0, 100.0, (*_NEAR_ZERO, -0.5, 1e-12, 3e38))
        ),
        "paddle.log1p",
    ),
    OpCase(
        "pd_op.floor",
        "any",
        unary_programs(_fixed(_floor), _NUMBERS, values(-10.0, 10.0, _HALVES)),
        "paddle.floor",
    ),
    OpCase(
        "pd_op.ceil",
        "any",
        unary_programs(_fixed(_ceil), _NUMBERS, values(-10.0, 10.0, _HALVES)),
        "paddle.ceil",
    ),
    OpCase(
        "pd_op.round",
        "decimals",
        unary_programs(_round, _NUMBERS, values(-2000.0, 2000.0, (*_HALVES, *_DECIMAL))),
        "paddle.round(x, decimals)",
    ),
    OpCase(
        "pd_op.sin",
        "any",
        unary_programs(_fixed(_sin), _FLOATS, values(-10, 10)),
        "paddle.sin",
    ),
    OpCase(
        "pd_op.cos",
        "any",
        unary_programs(_fixed(_cos), _FLOATS, values(-10, 10)),
        "paddle.cos",
    ),
    # Kept away from pi/2, where one ulp of input moves tan by more than any tolerance.
    OpCase(
        "pd_op.tan", "any", unary_programs(_fixed(_tan), _F32, values(-1.4, 1.4)), "paddle.tan"
    ),
    # Past +-1 both sides give NaN.
    OpCase(
        "pd_op.asin",
        "any",
        unary_programs(_fixed(_asin), _F32, values(-1.2, 1.2, (1.0, -1.0))),
        "paddle.asin",
    ),
    OpCase(
        "pd_op.acos",
        "any",
        unary_programs(_fixed(_acos), _F32, values(-1.2, 1.2, (1.0, -1.0))),
        "paddle.acos",
    ),
    OpCase(
        "pd_op.atan",
        "any",
        unary_programs(_fixed(_atan), _F32, values(-50, 50)),
        "paddle.atan",
    ),
    OpCase(
        "pd_op.sinh",
        "any",
        unary_programs(_fixed(_sinh), _F32, values(-10, 10)),
        "paddle.sinh",
    ),
    OpCase(
        "pd_op.cosh",
        "any",
        unary_programs(_fixed(_cosh), _F32, values(-10, 10)),
        "paddle.cosh",
    ),
    OpCase(
        "pd_op.reciprocal",
        "any",
        unary_programs(_fixed(_reciprocal), _FLOATS, values(-4, 4, _NEAR_ZERO)),
        "paddle.reciprocal",
    ),
    OpCase(
        "pd_op.rsqrt",
        "any",
        unary_programs(_fixed(_rsqrt), _FLOATS, values(-1, 16, _NEAR_ZERO)),
        "paddle.rsqrt",
    ),
    OpCase(
        "pd_op.square",
        "any",
        unary_programs(
            _fixed(_square), _NUMBERS, values(-10, 10, int_low=-1000, int_high=1000)
        ),
        "paddle.square",
    ),
    OpCase(
        "pd_op.sign",
        "any",
        unary_programs(_fixed(_sign), _NUMBERS, values(-4, 4, _SPECIAL)),
        "paddle.sign",
    ),
    OpCase("pd_op.erf", "any", unary_programs(_fixed(_erf), _F32), "paddle.erf"),
]

for _op, _fn, _api in [
    ("pd_op.isnan", _isnan, "paddle.isnan"),
    ("pd_op.isinf", _isinf, "paddle.isinf"),
    ("pd_op.isfinite", _isfinite, "paddle.isfinite"),
]:
    CASES.append(
        OpCase(
            _op, "any", unary_programs(_fixed(_fn), _NUMBERS, values(-4, 4, _SPECIAL)), _api
        )
    )

_WIDE = values(-40.0, 40.0, (0.0, -20.0, 20.0))
CASES += [
    OpCase(
        "pd_op.softplus",
        "beta_threshold",
        unary_programs(_softplus, _FLOATS, _WIDE),
        "paddle.nn.Softplus / F.softplus",
    ),
    OpCase("pd_op.softsign", "any", unary_programs(_fixed(_softsign)), "F.softsign"),
    OpCase(
        "pd_op.mish",
        "lambda",
        unary_programs(_mish, _FLOATS, _WIDE),
        "paddle.nn.Mish / F.mish",
    ),
    OpCase(
        "pd_op.logsigmoid",
        "any",
        unary_programs(_fixed(_logsigmoid), _FLOATS, _WIDE),
        "paddle.nn.LogSigmoid / F.log_sigmoid",
    ),
    OpCase(
        "pd_op.selu",
        "scale_alpha",
        unary_programs(_selu, _F32, values(-10, 10)),
        "paddle.nn.SELU / F.selu",
    ),
    OpCase(
        "pd_op.hardtanh",
        "min_max",
        unary_programs(_hardtanh, _FLOATS, values(-6, 6)),
        "paddle.nn.Hardtanh / F.hardtanh",
    ),
    OpCase(
        "pd_op.hardshrink",
        "threshold",
        unary_programs(_hardshrink, _FLOATS, values(-4, 4, (0.5, -0.5))),
        "paddle.nn.Hardshrink / F.hardshrink",
    ),
    OpCase(
        "pd_op.softshrink",
        "threshold",
        unary_programs(_softshrink, _FLOATS, values(-4, 4, (0.5, -0.5))),
        "paddle.nn.Softshrink / F.softshrink",
    ),
    OpCase(
        "pd_op.thresholded_relu",
        "threshold_value",
        unary_programs(_thresholded_relu, _FLOATS, values(-4, 4, (1.0,))),
        "paddle.nn.ThresholdedReLU / F.thresholded_relu",
    ),
    OpCase(
        "pd_op.tanh_shrink",
        "any",
        unary_programs(_fixed(_tanh_shrink), _FLOATS),
        "paddle.nn.Tanhshrink / F.tanhshrink",
    ),
    OpCase("pd_op.prelu", "modes", prelu_programs(), "paddle.nn.PReLU / F.prelu"),
]

CASES += [
    # Negative x with a fractional y gives NaN on both sides.
    OpCase(
        "pd_op.pow",
        "float",
        unary_programs(_pow, _FLOATS, _no_negative_zero(values())),
        "paddle.pow(x, float)",
    ),
    OpCase(
        "pd_op.pow",
        "int",
        unary_programs(_int_pow, ("int32", "int64"), values(int_low=-9, int_high=9)),
        "paddle.pow(int_x, number)",
    ),
    OpCase(
        "pd_op.elementwise_pow",
        "tensor",
        binary_programs(
            _elementwise_pow,
            _FLOATS,
            values(-4, 4, (0.0, -2.0)),
            values(-3, 3, (0.0, 0.5, 2.0)),
        ),
        "paddle.pow(x, tensor) / x ** y",
    ),
    # Integers go through double as in Paddle's kernel; bases stay nonzero and small, as
    # 0 ** -1 and overflow are undefined casts in C++.
    OpCase(
        "pd_op.elementwise_pow",
        "int",
        binary_programs(
            _elementwise_pow,
            ("int32", "int64"),
            _nonzero(-5, 5),
            values(int_low=-2, int_high=8),
        ),
        "paddle.pow(int_x, int_tensor)",
    ),
    OpCase(
        "pd_op.elementwise_pow",
        "python_scalar",
        unary_programs(_scalar_pow, _FLOATS, _no_negative_zero(values())),
        "x ** 2 / x ** 0.5",
    ),
    OpCase(
        "pd_op.maximum",
        "broadcast",
        binary_programs(_maximum, _NUMBERS, values(-4, 4, (_NAN, 1.0, -1.0))),
        "paddle.maximum",
    ),
    OpCase(
        "pd_op.minimum",
        "broadcast",
        binary_programs(_minimum, _NUMBERS, values(-4, 4, (_NAN, 1.0, -1.0))),
        "paddle.minimum",
    ),
    OpCase(
        "pd_op.floor_divide",
        "broadcast",
        binary_programs(
            _floor_divide,
            _NUMBERS,
            values(-10, 10, _DIVIDENDS),
            _divisors,
        ),
        "paddle.floor_divide / x // y",
    ),
    OpCase(
        "pd_op.remainder",
        "broadcast",
        binary_programs(
            _remainder,
            _NUMBERS,
            values(-10, 10, _DIVIDENDS),
            _divisors,
        ),
        "paddle.remainder / x % y",
    ),
    OpCase(
        "pd_op.clip",
        "float",
        unary_programs(_clip, _FLOATS, values(-6, 6)),
        "paddle.clip(x, min, max)",
    ),
    OpCase(
        "pd_op.clip",
        "int",
        unary_programs(_int_clip, ("int32", "int64"), values(int_low=-10, int_high=10)),
        "paddle.clip(int_x, int, int)",
    ),
    OpCase(
        "pd_op.clip", "tensor_bounds", tensor_clip_programs(), "paddle.clip(x, tensor, tensor)"
    ),
    OpCase(
        "pd_op.cumsum",
        "axis_flags",
        unary_programs(_cumsum, ("float32", "float64", "int64")),
        "paddle.cumsum / _C_ops.cumsum(x, axis, flatten, exclusive, reverse)",
    ),
]

test_math = case_tests(CASES)
