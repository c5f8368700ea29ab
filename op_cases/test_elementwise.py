"""Cases for harness/export/elementwise.py."""

import paddle
from hypothesis import strategies as st

from harness.cases import OpCase, case_tests
from harness.cases.strategies import (
    Input,
    binary_program,
    dynamic_subset,
    elements_for,
    fn_layer,
    program,
    shapes,
)

# What Paddle's CPU kernels take for add, subtract and multiply alike (int8, uint8 and
# int16 lack some of the three) and ONNX Runtime's Add/Sub/Mul run.
_DTYPES = ("float32", "float64", "int32", "int64")
_FLOATS = ("float32", "float64")


def _add(x, y):
    return paddle.add(x, y)


def _subtract(x, y):
    return paddle.subtract(x, y)


def _multiply(x, y):
    return paddle.multiply(x, y)


def _divide(x, y):
    return paddle.divide(x, y)


@st.composite
def binary_programs(draw, fn, dtypes=_DTYPES):
    """Draw x and y whose shapes broadcast against each other, a batch dim maybe dynamic."""
    dtype = draw(st.sampled_from(dtypes))
    # Integers stay small so that products of drawn values cannot overflow int32.
    low, high = (-4.0, 4.0) if dtype.startswith("float") else (-1000, 1000)
    elements = elements_for(Input("x", (), dtype, low, high))
    return binary_program(draw, fn_layer(fn), dtype, elements, min_rank=1)


class Scale(paddle.nn.Layer):
    """``paddle.scale`` with a Python float scale (a pd_op.full operand)."""

    def __init__(self, scale, bias, bias_after_scale):
        super().__init__()
        self.scale, self.bias, self.after = scale, bias, bias_after_scale

    def forward(self, x):
        return paddle.scale(x, self.scale, self.bias, self.after)


class TensorScale(paddle.nn.Layer):
    """``paddle.scale`` with the scale given as a runtime tensor of shape [1]."""

    def __init__(self, bias, bias_after_scale):
        super().__init__()
        self.bias, self.after = bias, bias_after_scale

    def forward(self, x, s):
        return paddle.scale(x, s, self.bias, self.after)


def _factors():
    """Scale and bias values: fractions (integer x truncates them), 0, 1 and negatives."""
    return st.one_of(
        st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.5, -1.75]), st.floats(-4, 4, width=32)
    )


@st.composite
def scale_programs(draw, tensor_scale=False):
    shape = draw(shapes(0, 4))
    names = tuple(f"d{i}" for i in range(len(shape)))
    dynamic = dynamic_subset(draw, names)
    dtype = draw(st.sampled_from(_DTYPES))
    low, high = (-4.0, 4.0) if dtype.startswith("float") else (-1000, 1000)
    bias, after = draw(_factors()), draw(st.booleans())
    attrs = {"bias": bias, "bias_after_scale": after, "shape": shape, "dtype": dtype}
    inputs = [Input("x", names, dtype, low, high)]
    if tensor_scale:
        layer = TensorScale(bias, after)
        inputs.append(Input("s", (1,), "float32", elements=_factors()))
    else:
        factor = draw(_factors())
        layer = Scale(factor, bias, after)
        attrs["scale"] = factor
    return program(draw, layer, inputs, dict(zip(names, shape)), dynamic, attrs)


CASES = [
    OpCase("pd_op.add", "broadcast", binary_programs(_add), "paddle.add / x + y"),
    OpCase(
        "pd_op.subtract", "broadcast", binary_programs(_subtract), "paddle.subtract / x - y"
    ),
    OpCase(
        "pd_op.multiply", "broadcast", binary_programs(_multiply), "paddle.multiply / x * y"
    ),
    OpCase(
        "pd_op.divide",
        "broadcast",
        binary_programs(_divide, _FLOATS),
        "paddle.divide / x / y",
    ),
    OpCase(
        "pd_op.scale",
        "const_scale",
        scale_programs(),
        "paddle.scale / x * 2.0 / x + 1",
    ),
    OpCase(
        "pd_op.scale",
        "tensor_scale",
        scale_programs(tensor_scale=True),
        "paddle.scale(x, scale=tensor)",
    ),
]

test_elementwise = case_tests(CASES)
