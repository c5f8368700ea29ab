"""Cases for harness/export/reduce.py."""

import paddle
from hypothesis import strategies as st

from harness.cases import OpCase, case_tests
from harness.cases.strategies import Input, dynamic_subset, program, shapes

_FLOATS = ("float32", "float64")
_DTYPES = ("float32", "float64", "int32", "int64")


class Reduce(paddle.nn.Layer):
    """``paddle.<name>(x, axis, keepdim, **kwargs)`` with constant axes."""

    def __init__(self, name, axis, keepdim, **kwargs):
        super().__init__()
        self.fn = getattr(paddle, name)
        self.axis, self.keepdim, self.kwargs = axis, keepdim, kwargs

    def forward(self, x):
        return self.fn(x, axis=self.axis, keepdim=self.keepdim, **self.kwargs)


class TensorAxisReduce(paddle.nn.Layer):
    """``paddle.<name>(x, axis=tensor)``: the axes are a runtime input."""

    def __init__(self, name, keepdim):
        super().__init__()
        self.fn, self.keepdim = getattr(paddle, name), keepdim

    def forward(self, x, axis):
        return self.fn(x, axis=axis, keepdim=self.keepdim)


@st.composite
def _axis_arg(draw, rank):
    """Draw Paddle's ``axis`` argument: None, an int, or a list (maybe empty or all)."""
    chosen = sorted(draw(st.sets(st.integers(0, max(rank - 1, 0)), max_size=rank)))
    # Each axis is written as its positive or its negative spelling.
    axes = [a - rank if draw(st.booleans()) else a for a in chosen]
    form = draw(st.sampled_from(["list", "none", "int"]))
    if form == "none":
        return None
    if form == "int" and len(axes) == 1:
        return axes[0]
    return axes


@st.composite
def reduce_programs(draw, name, dtypes=_DTYPES, cast_to=None):
    """Draw a rank 0-4 x, its dynamic dims, axes and keepdim for ``paddle.<name>``.

    ``cast_to`` maps an input dtype to result dtypes the ``dtype`` argument may ask for.
    """
    shape = draw(shapes(0, 4))
    names = tuple(f"d{i}" for i in range(len(shape)))
    dynamic = dynamic_subset(draw, names)
    dtype = draw(st.sampled_from(dtypes))
    axis, keepdim = draw(_axis_arg(len(shape))), draw(st.booleans())
    kwargs = {}
    if cast_to is not None:
        out = draw(st.sampled_from([None, *cast_to.get(dtype, ())]))
        kwargs = {} if out is None else {"dtype": out}
    low, high = (-4.0, 4.0) if dtype.startswith("float") else (-1000, 1000)
    return program(
        draw,
        Reduce(name, axis, keepdim, **kwargs),
        [Input("x", names, dtype, low, high)],
        dict(zip(names, shape)),
        dynamic,
        attrs={"axis": axis, "keepdim": keepdim, "shape": shape, "dtype": dtype, **kwargs},
    )


@st.composite
def tensor_axis_programs(draw, name, dtypes=_FLOATS):
    """Draw a rank 1-4 x and one axis given as an int64 tensor input."""
    shape = draw(shapes(1, 4))
    names = tuple(f"d{i}" for i in range(len(shape)))
    dynamic = dynamic_subset(draw, names)
    dtype = draw(st.sampled_from(dtypes))
    keepdim = draw(st.booleans())
    rank = len(shape)
    return program(
        draw,
        TensorAxisReduce(name, keepdim),
        [
            Input("x", names, dtype),
            # 0-d: eager Paddle 3.3 fails on a 1-element axis tensor of shape [1].
            Input("axis", (), "int64", elements=st.integers(-rank, rank - 1)),
        ],
        dict(zip(names, shape)),
        dynamic,
        attrs={"keepdim": keepdim, "shape": shape, "dtype": dtype},
    )


CASES = [
    OpCase(
        "pd_op.mean",
        "axes",
        reduce_programs("mean"),
        "paddle.mean / x.mean(axis, keepdim)",
    ),
    OpCase(
        "pd_op.mean",
        "tensor_axis",
        tensor_axis_programs("mean"),
        "paddle.mean(x, axis=tensor)",
        min_opset=18,
    ),
    OpCase(
        "pd_op.sum",
        "axes",
        reduce_programs(
            "sum", (*_DTYPES, "bool"), {"float32": ["float64"], "int32": ["int64"]}
        ),
        "paddle.sum / x.sum(axis, keepdim, dtype)",
    ),
    OpCase(
        "pd_op.sum",
        "tensor_axis",
        tensor_axis_programs("sum"),
        "paddle.sum(x, axis=tensor)",
        min_opset=13,
    ),
    OpCase("pd_op.max", "axes", reduce_programs("max"), "paddle.max / x.max(axis, keepdim)"),
    OpCase(
        "pd_op.max",
        "tensor_axis",
        tensor_axis_programs("max"),
        "paddle.max(x, axis=tensor)",
        min_opset=18,
    ),
    OpCase("pd_op.min", "axes", reduce_programs("min"), "paddle.min / x.min(axis, keepdim)"),
    OpCase(
        "pd_op.min",
        "tensor_axis",
        tensor_axis_programs("min"),
        "paddle.min(x, axis=tensor)",
        min_opset=18,
    ),
]

test_reduce = case_tests(CASES)
