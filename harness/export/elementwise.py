"""Binary elementwise arithmetic: add, subtract, multiply, divide.

Paddle broadcasts these like numpy (the PIR ops carry no axis attribute), which is what
ONNX's binary ops do as well.
"""

from harness.export.registry import register

_BINARY = {
    "pd_op.add": "Add",
    "pd_op.subtract": "Sub",
    "pd_op.multiply": "Mul",
}


def _binary(onnx_op):
    def convert(ctx, op):
        ctx.node(onnx_op, [ctx.input(op, 0), ctx.input(op, 1)], [ctx.out(op)])

    return convert


for _name, _onnx_op in _BINARY.items():
    register(_name)(_binary(_onnx_op))
