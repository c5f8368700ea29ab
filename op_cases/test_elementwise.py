"""Cases for harness/export/elementwise.py."""

import paddle
from hypothesis import strategies as st

from harness.cases import OpCase, case_tests
from harness.cases.strategies import Input, broadcast_partner, fn_layer, program, shapes


def _add(x, y):
    return paddle.add(x, y)


def _subtract(x, y):
    return paddle.subtract(x, y)


def _multiply(x, y):
    return paddle.multiply(x, y)


@st.composite
def binary_programs(draw, fn):
    shape = draw(shapes(1, 4))
    other = broadcast_partner(draw, shape)
    if draw(st.booleans()):
        shape, other = other, shape
    names_x = tuple(f"x{i}" for i in range(len(shape)))
    dynamic = ["x0"] if shape and draw(st.booleans()) else []
    sizes = {n: d for n, d in zip(names_x, shape)}
    # Dims of y that line up with a dynamic dim of x and are not 1 follow it.
    offset = len(shape) - len(other)
    y_shape = tuple(
        names_x[i + offset] if i + offset >= 0 and d == shape[i + offset] and d != 1 else d
        for i, d in enumerate(other)
    )
    x_shape = tuple(n if d != 1 or n not in dynamic else 1 for n, d in zip(names_x, shape))
    if any(d == 1 for d, n in zip(shape, names_x) if n in dynamic):
        dynamic = []
    return program(
        draw,
        fn_layer(fn),
        [Input("x", x_shape), Input("y", y_shape)],
        sizes,
        dynamic,
        attrs={"x": shape, "y": other},
    )


CASES = [
    OpCase("pd_op.add", "broadcast", binary_programs(_add), "paddle.add / x + y"),
    OpCase(
        "pd_op.subtract", "broadcast", binary_programs(_subtract), "paddle.subtract / x - y"
    ),
    OpCase(
        "pd_op.multiply", "broadcast", binary_programs(_multiply), "paddle.multiply / x * y"
    ),
]

test_elementwise = case_tests(CASES)
