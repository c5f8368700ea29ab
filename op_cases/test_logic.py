"""Cases for harness/export/logic.py."""

import math

import numpy as np
import paddle
from hypothesis import strategies as st

from harness.cases import CaseProgram, OpCase, case_tests
from harness.cases.strategies import (
    Input,
    binary_program,
    dynamic_subset,
    floats,
    fn_layer,
    program,
    shapes,
)

# Paddle's CPU comparison and logical kernels take all of these; ONNX Runtime's lack bool
# for the order comparisons, which the mappings cast to int32.
_DTYPES = ("float32", "float64", "int32", "int64", "bool")
# Paddle's bitwise kernels take every integer width; ONNX Runtime's BitwiseAnd & co. too.
_INTS = ("int8", "int16", "int32", "int64", "uint8")


def _values(dtype, wide=False):
    """Draw ties, signed zeros, near-ties, NaN and infinities for floats, so that equal,
    unordered and infinite pairs all occur; small integers, so that ties are common
    (``wide``: the whole range too, for bit patterns)."""
    if dtype == "bool":
        return st.booleans()
    if dtype.startswith("float"):
        # 1e-16 and -5e-16 are within Paddle's 1e-15 of 0 and of each other: equal.
        special = [0.0, -0.0, 1.0, -1.5, 2.0, 1e-16, -5e-16, math.nan, math.inf, -math.inf]
        return st.one_of(st.sampled_from(special), floats(-4.0, 4.0, dtype))
    info = np.iinfo(dtype)
    small = st.integers(max(info.min, -3), 3)
    return st.one_of(small, st.integers(info.min, info.max)) if wide else small


@st.composite
def binary_programs(draw, fn, dtypes=_DTYPES, wide=False, scalar_kind=None):
    """Draw two inputs whose shapes broadcast against each other, a batch dim maybe dynamic.

    With ``scalar_kind`` (a ScalarCompare kind), y is sometimes a Python float instead.
    """
    if scalar_kind and draw(st.booleans()):
        return draw(_scalar_programs(scalar_kind))
    dtype = draw(st.sampled_from(dtypes))
    elements = _values(dtype, wide)
    return binary_program(draw, fn_layer(fn), dtype, elements)


@st.composite
def unary_programs(draw, fn, dtypes, wide=False):
    shape = draw(shapes(0, 4))
    names = tuple(f"d{i}" for i in range(len(shape)))
    dtype = draw(st.sampled_from(dtypes))
    return program(
        draw,
        fn_layer(fn),
        [Input("x", names, dtype, elements=_values(dtype, wide))],
        dict(zip(names, shape)),
        dynamic_subset(draw, names),
        attrs={"shape": shape, "dtype": dtype},
    )


class ScalarCompare(paddle.nn.Layer):
    """``x < 1.0`` and friends: the Python scalar becomes a 0-d pd_op.full operand."""

    def __init__(self, kind, value):
        super().__init__()
        self.kind, self.value = kind, value

    def forward(self, x):
        if self.kind == "lt":
            return x < self.value
        if self.kind == "le":
            return x <= self.value
        if self.kind == "gt":
            return x > self.value
        if self.kind == "ge":
            return x >= self.value
        if self.kind == "eq":
            return x == self.value
        return x != self.value


@st.composite
def _scalar_programs(draw, kind):
    shape = draw(shapes(0, 3))
    names = tuple(f"d{i}" for i in range(len(shape)))
    # A float scalar keeps a float x as it is (an integer x would be cast to float first).
    dtype = draw(st.sampled_from(("float32", "float64")))
    value = draw(st.sampled_from([0.0, 1.0, -1.5, 2.0]))
    return program(
        draw,
        ScalarCompare(kind, value),
        [Input("x", names, dtype, elements=_values(dtype))],
        dict(zip(names, shape)),
        dynamic_subset(draw, names),
        attrs={"shape": shape, "dtype": dtype, "y": value},
    )


def _equal(x, y):
    return paddle.equal(x, y)


def _not_equal(x, y):
    return paddle.not_equal(x, y)


def _less_than(x, y):
    return paddle.less_than(x, y)


def _less_equal(x, y):
    return paddle.less_equal(x, y)


def _greater_than(x, y):
    return paddle.greater_than(x, y)


def _greater_equal(x, y):
    return paddle.greater_equal(x, y)


def _logical_and(x, y):
    return paddle.logical_and(x, y)


def _logical_or(x, y):
    return paddle.logical_or(x, y)


def _logical_xor(x, y):
    return paddle.logical_xor(x, y)


def _logical_not(x):
    return paddle.logical_not(x)


def _bitwise_and(x, y):
    return paddle.bitwise_and(x, y)


def _bitwise_or(x, y):
    return paddle.bitwise_or(x, y)


def _bitwise_xor(x, y):
    return paddle.bitwise_xor(x, y)


def _bitwise_not(x):
    return paddle.bitwise_not(x)


def _where(c, x, y):
    return paddle.where(c, x, y)


@st.composite
def where_programs(draw):
    """Condition, x and y of one shape: with differing shapes paddle.where broadcasts
    through full_like, cast and add ops before pd_op.where, which then sees one shape."""
    shape = draw(shapes(0, 4))
    names = tuple(f"d{i}" for i in range(len(shape)))
    dtype = draw(st.sampled_from(_DTYPES))
    values = _values(dtype)
    return program(
        draw,
        fn_layer(_where),
        [
            Input("c", names, "bool"),
            Input("x", names, dtype, elements=values),
            Input("y", names, dtype, elements=values),
        ],
        dict(zip(names, shape)),
        dynamic_subset(draw, names),
        attrs={"shape": shape, "dtype": dtype},
    )


_COMPARE = [
    ("pd_op.equal", _equal, "eq", "paddle.equal / x == y"),
    ("pd_op.not_equal", _not_equal, "ne", "paddle.not_equal / x != y"),
    ("pd_op.less_than", _less_than, "lt", "paddle.less_than / x < y"),
    ("pd_op.less_equal", _less_equal, "le", "paddle.less_equal / x <= y"),
    ("pd_op.greater_than", _greater_than, "gt", "paddle.greater_than / x > y"),
    ("pd_op.greater_equal", _greater_equal, "ge", "paddle.greater_equal / x >= y"),
]

CASES = [
    OpCase(op, "broadcast", binary_programs(fn, scalar_kind=kind), api)
    for op, fn, kind, api in _COMPARE
]

CASES += [
    OpCase("pd_op.logical_and", "any", binary_programs(_logical_and), "paddle.logical_and"),
    OpCase("pd_op.logical_or", "any", binary_programs(_logical_or), "paddle.logical_or"),
    OpCase("pd_op.logical_xor", "any", binary_programs(_logical_xor), "paddle.logical_xor"),
    OpCase(
        "pd_op.logical_not", "any", unary_programs(_logical_not, _DTYPES), "paddle.logical_not"
    ),
]

_BITWISE = [
    ("pd_op.bitwise_and", binary_programs, _bitwise_and, "paddle.bitwise_and / x & y"),
    ("pd_op.bitwise_or", binary_programs, _bitwise_or, "paddle.bitwise_or / x | y"),
    ("pd_op.bitwise_xor", binary_programs, _bitwise_xor, "paddle.bitwise_xor / x ^ y"),
    ("pd_op.bitwise_not", unary_programs, _bitwise_not, "paddle.bitwise_not / ~x"),
]
_BEFORE_18 = "integer bitwise ops need ONNX BitwiseAnd/Or/Xor/Not, which arrive in opset 18"


@st.composite
def refused_programs(draw, fn, arity):
    """A fixed integer program, only the dtype drawn: the export refuses it whatever the
    values, and a strict xfail would otherwise spend its time shrinking them."""
    dtype = draw(st.sampled_from(_INTS))
    x = (np.arange(6) * 37 % 11).astype(dtype).reshape(2, 3)
    specs = [paddle.static.InputSpec([2, 3], dtype, name) for name in "xy"[:arity]]
    return CaseProgram(fn_layer(fn), specs, [[x] * arity], {"dtype": dtype})


for _op, _draw, _fn, _api in _BITWISE:
    _arity = 1 if _op == "pd_op.bitwise_not" else 2
    CASES += [
        OpCase(_op, "bool", _draw(_fn, ("bool",)), _api),
        OpCase(_op, "int", _draw(_fn, _INTS, wide=True), _api, min_opset=18),
        OpCase(
            _op,
            "int_before_18",
            refused_programs(_fn, _arity),
            _api,
            xfail=_BEFORE_18,
            max_opset=17,
        ),
    ]

CASES.append(OpCase("pd_op.where", "any", where_programs(), "paddle.where(cond, x, y)"))

test_logic = case_tests(CASES)
