"""Cases for harness/export/linalg.py.

Tolerances: float32 sums of K products differ between Paddle's CPU GEMM and ONNX
Runtime's only in summation order. With operands in [-4, 4] and K <= 5 the partial sums
stay below 48, where half an ulp is 1.9e-6, so the default atol=rtol=1e-5 holds; measured
worst |diff| over 2000 cancelling examples per K was 5.7e-6 at K=5 and 1.1e-5 at K=16
(needing atol 3.7e-6 on top of rtol 1e-5). The long-K case gets atol 5e-5: its partial
sums reach 256, where half an ulp is 1.5e-5. float64 and integer results use the defaults
(measured float64 worst 3e-14 at K=32; integers are exact).
"""

import numpy as np
import paddle
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from harness.cases import CaseProgram, OpCase, case_tests
from harness.cases.strategies import Input, floats, program

DTYPES = ("float32", "float64", "int32", "int64")


class _Matmul(paddle.nn.Layer):
    def __init__(self, transpose_x: bool, transpose_y: bool):
        super().__init__()
        self.transpose_x = transpose_x
        self.transpose_y = transpose_y

    def forward(self, x, y):
        return paddle.matmul(x, y, self.transpose_x, self.transpose_y)


def _batch_dims(draw, rank: int):
    """Draw the batch dims of x and y: each dim is shared (symbol ``b{i}``) or 1.

    Returns (x batch, y batch, sizes); y may have fewer batch dims than x or vice versa.
    Where the shorter side has a dim the longer one broadcasts (1), Paddle records a
    wrong result shape (see the ``rank-broadcast`` case), so that dim is 1 as well.
    """
    sizes = {f"b{i}": draw(st.integers(1, 3)) for i in range(rank)}

    def side():
        keep = draw(st.integers(0, rank))
        return [1 if draw(st.booleans()) else f"b{i}" for i in range(rank - keep, rank)]

    xb, yb = side(), side()
    short, long = (xb, yb) if len(xb) < len(yb) else (yb, xb)
    for i in range(1, len(short) + 1):
        if long[-i] == 1:
            short[-i] = 1
    return tuple(xb), tuple(yb), sizes


def _matrix(m, k, transpose: bool):
    return (k, m) if transpose else (m, k)


@st.composite
def matmul_programs(draw, dtypes=DTYPES, k_range=(1, 5)):
    """x [..., M, K] @ y [..., K, N] with broadcast batch dims and both transpose flags."""
    dtype = draw(st.sampled_from(dtypes))
    tx, ty = draw(st.booleans()), draw(st.booleans())
    xb, yb, sizes = _batch_dims(draw, draw(st.integers(0, 2)))
    sizes.update(m=draw(st.integers(1, 4)), k=draw(st.integers(*k_range)))
    sizes.update(n=draw(st.integers(1, 4)))
    dynamic = [d for d in sizes if draw(st.booleans())]
    x = Input("x", xb + _matrix("m", "k", tx), dtype)
    y = Input("y", yb + _matrix("k", "n", ty), dtype)
    attrs = {"x": x.shape, "y": y.shape, "transpose_x": tx, "transpose_y": ty}
    return program(draw, _Matmul(tx, ty), [x, y], sizes, dynamic, attrs)


@st.composite
def matmul_vector_programs(draw):
    """A 1-D operand on either side or both (its transpose flag is ignored by Paddle)."""
    dtype = draw(st.sampled_from(DTYPES))
    tx, ty = draw(st.booleans()), draw(st.booleans())
    side = draw(st.sampled_from(("x", "y", "both")))
    batch = tuple(f"b{i}" for i in range(draw(st.integers(0, 2))))
    sizes = {b: draw(st.integers(1, 3)) for b in batch}
    sizes.update(m=draw(st.integers(1, 4)), k=draw(st.integers(1, 5)))
    sizes.update(n=draw(st.integers(1, 4)))
    dynamic = [d for d in sizes if draw(st.booleans())]
    x_shape = ("k",) if side in ("x", "both") else batch + _matrix("m", "k", tx)
    y_shape = ("k",) if side in ("y", "both") else batch + _matrix("k", "n", ty)
    x, y = Input("x", x_shape, dtype), Input("y", y_shape, dtype)
    attrs = {"x": x_shape, "y": y_shape, "transpose_x": tx, "transpose_y": ty}
    return program(draw, _Matmul(tx, ty), [x, y], sizes, dynamic, attrs)


class _TransposedMatvec(paddle.nn.Layer):
    def __init__(self, perm):
        super().__init__()
        self.perm = perm

    def forward(self, x, v):
        return paddle.matmul(paddle.transpose(x, self.perm), v)


@st.composite
def transposed_matvec_programs(draw):
    """``transpose(x, perm) @ v`` for 1-D v: the pattern onnxruntime's fusion gets wrong."""
    dtype = draw(st.sampled_from(("float32", "float64")))
    rank = draw(st.integers(2, 4))
    perm = list(draw(st.permutations(range(rank))))
    if draw(st.booleans()):  # the last two swapped, which is what gets fused
        perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    names = tuple(f"d{i}" for i in range(rank))
    sizes = {n: draw(st.integers(1, 4)) for n in names}
    dynamic = [n for n in names if draw(st.booleans())]
    x = Input("x", names, dtype)
    v = Input("v", (names[perm[-1]],), dtype)
    attrs = {"x": names, "perm": perm}
    return program(draw, _TransposedMatvec(perm), [x, v], sizes, dynamic, attrs)


@st.composite
def linear_programs(draw):
    """nn.Linear (matmul with the [in, out] weight, then add of the bias)."""
    n_in, n_out = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    layer = paddle.nn.Linear(n_in, n_out, bias_attr=None if draw(st.booleans()) else False)
    weight = draw(hnp.arrays(np.float32, (n_in, n_out), elements=floats()))
    layer.weight.set_value(weight)
    if layer.bias is not None:
        layer.bias.set_value(draw(hnp.arrays(np.float32, (n_out,), elements=floats())))
    batch = tuple(f"b{i}" for i in range(draw(st.integers(1, 3))))
    sizes = {b: draw(st.integers(1, 3)) for b in batch}
    dynamic = [b for b in batch if draw(st.booleans())]
    attrs = {"in": n_in, "out": n_out, "bias": layer.bias is not None}
    return program(draw, layer, [Input("x", batch + (n_in,))], sizes, dynamic, attrs)


def _rank_broadcast_program():
    # x [1, 1, 2, 3] @ y [2, 3, 2]: the result is [1, 2, 2, 2], Paddle records [1, 1, 2, 2].
    # Nothing is drawn, so an expected failure leaves Hypothesis nothing to shrink.
    specs = [
        paddle.static.InputSpec([1, 1, 2, 3], "float32", "x"),
        paddle.static.InputSpec([2, 3, 2], "float32", "y"),
    ]
    inputs = [[np.ones((1, 1, 2, 3), np.float32), np.ones((2, 3, 2), np.float32)]]
    return CaseProgram(
        _Matmul(False, False), specs, inputs, {"x": [1, 1, 2, 3], "y": [2, 3, 2]}
    )


CASES = [
    OpCase(
        "pd_op.matmul",
        "batched",
        matmul_programs(),
        "paddle.matmul / x @ y",
    ),
    OpCase("pd_op.matmul", "vector", matmul_vector_programs(), "paddle.matmul (1-D operands)"),
    OpCase(
        "pd_op.matmul",
        "long-k",
        matmul_programs(dtypes=("float32",), k_range=(8, 16)),
        "paddle.matmul",
        tolerances={"float32": (5e-5, 1e-5)},
    ),
    OpCase(
        "pd_op.matmul",
        "transposed-matvec",
        transposed_matvec_programs(),
        "paddle.matmul(paddle.transpose(x, perm), v)",
    ),
    OpCase(
        "pd_op.matmul",
        "rank-broadcast",
        st.builds(_rank_broadcast_program),
        "paddle.matmul",
        xfail=(
            "Paddle records a wrong result shape for this matmul: with operands of "
            "different ranks it keeps the batch dims of the higher-rank one, dropping a "
            "batch dim that broadcasts from the other"
        ),
    ),
    OpCase("pd_op.matmul", "linear", linear_programs(), "paddle.nn.Linear / F.linear"),
]

test_linalg = case_tests(CASES)
