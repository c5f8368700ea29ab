"""Matrix products.

onnxruntime (seen in 1.32, CPU) miscomputes ``MatMul(Transpose(A), b)`` when ``b`` is 1-D
and the Transpose swaps A's last two axes: its transpose/matmul fusion (extended graph
optimizations) returns ``A @ b``. The mappings here never hand it that pattern.
"""

from harness.export.registry import Unsupported, register


def _swap_last_two(ctx, name: str, rank: int) -> str:
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    return ctx.node("Transpose", [name], perm=perm)


def _made_by(ctx, name: str, op_type: str) -> bool:
    return any(n.op_type == op_type and name in n.output for n in ctx.builder.nodes)


def _matvec_by_column(ctx, x: str, v: str, out: str) -> None:
    """Emit ``x @ v`` for 1-D ``v`` as ``(x @ v[:, None])[..., 0]``."""
    if ctx.opset >= 13:
        axes = ctx.int64s([-1], "axes")
        product = ctx.node("MatMul", [x, ctx.node("Unsqueeze", [v, axes])])
        ctx.node("Squeeze", [product, axes], [out])
    else:
        product = ctx.node("MatMul", [x, ctx.node("Unsqueeze", [v], axes=[-1])])
        ctx.node("Squeeze", [product], [out], axes=[-1])


def _broadcast_dim(a, b):
    """Return the broadcast of two dims (None = dynamic) when it is known statically."""
    if a == 1 or a == b:
        return b
    if b == 1:
        return a
    return a if b is None else b


def _check_result_shape(ctx, op) -> None:
    # Paddle's shape inference copies the batch dims of the higher-rank operand when the
    # ranks differ, dropping a broadcast from the other one, so the recorded result
    # shape can be wrong; later ops and the declared outputs would follow it.
    x, y = ctx.in_value(op, 0).shape, ctx.in_value(op, 1).shape
    recorded = ctx.out_value(op).shape
    if len(x) < 2 or len(y) < 2 or recorded is None:
        return
    n = max(len(x), len(y)) - 2
    xb, yb = (1,) * (n - len(x) + 2) + x[:-2], (1,) * (n - len(y) + 2) + y[:-2]
    for a, b, r in zip(xb, yb, recorded[:n]):
        true = _broadcast_dim(a, b)
        if r is not None and true is not None and r != true:
            raise Unsupported(_WRONG_SHAPE)


_WRONG_SHAPE = (
    "Paddle records a wrong result shape for this matmul: with operands of different "
    "ranks it keeps the batch dims of the higher-rank one, dropping a batch dim that "
    "broadcasts from the other"
)


@register("pd_op.matmul")
def matmul(ctx, op):
    """Honour transpose_x / transpose_y; 1-D operands follow numpy matmul in both.

    Paddle ignores the flag of a 1-D operand, as it has no second axis to swap.
    Rejects a matmul whose result shape Paddle records wrongly (see above).
    """
    _check_result_shape(ctx, op)
    x, y, out = ctx.input(op, 0), ctx.input(op, 1), ctx.out(op)
    rank_x, rank_y = ctx.rank(op, 0), ctx.rank(op, 1)
    tx = bool(op.attrs.get("transpose_x")) and rank_x >= 2
    ty = bool(op.attrs.get("transpose_y")) and rank_y >= 2
    if (tx and rank_y == 1) or (ty and rank_x == 1):
        # x^T @ v == v @ x and v @ y^T == y @ v: no Transpose (and no fusion bug).
        ctx.node("MatMul", [y, x], [out])
    elif rank_y == 1 and rank_x >= 2 and _made_by(ctx, x, "Transpose"):
        _matvec_by_column(ctx, x, y, out)  # x comes from a transpose op of the program
    else:
        x = _swap_last_two(ctx, x, rank_x) if tx else x
        y = _swap_last_two(ctx, y, rank_y) if ty else y
        ctx.node("MatMul", [x, y], [out])
