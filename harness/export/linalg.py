"""Matrix products."""

from harness.export.registry import register


def _swap_last_two(ctx, name: str, rank: int) -> str:
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    return ctx.node("Transpose", [name], perm=perm)


@register("pd_op.matmul")
def matmul(ctx, op):
    """Honour transpose_x / transpose_y; 1-D operands follow numpy matmul in both."""
    x, y = ctx.input(op, 0), ctx.input(op, 1)
    if op.attrs.get("transpose_x") and ctx.rank(op, 0) >= 2:
        x = _swap_last_two(ctx, x, ctx.rank(op, 0))
    if op.attrs.get("transpose_y") and ctx.rank(op, 1) >= 2:
        y = _swap_last_two(ctx, y, ctx.rank(op, 1))
    ctx.node("MatMul", [x, y], [ctx.out(op)])
