"""What a mapping sees: the graph, the target opset and a builder, with helpers."""

from __future__ import annotations

import numpy as np

from harness.export.builder import GraphBuilder, onnx_dtype
from harness.export.registry import Unsupported
from harness.graph import Graph, Op, Value


class ExportContext:
    """State shared by the mappings of one export.

    Graph value names are used as ONNX tensor names, so a mapping writes its results
    straight to ``ctx.out(op, i)``. A mapping that forwards a value unchanged calls
    ``ctx.alias`` instead of emitting an Identity.
    """

    def __init__(self, graph: Graph, opset: int, builder: GraphBuilder):
        self.graph = graph
        self.opset = opset
        self.builder = builder
        self._alias: dict[str, str] = {}

    # --- reading operands ---------------------------------------------------------------

    def resolve(self, name: str) -> str:
        while name in self._alias:
            name = self._alias[name]
        return name

    def input(self, op: Op, key: int | str) -> str:
        """Return the ONNX name of operand ``key``; raise Unsupported when it is absent."""
        name = op.input(key)
        if name is None:
            raise Unsupported(f"operand {key!r} is absent")
        if name in self.graph.lists:
            raise Unsupported(f"operand {key!r} is a list of tensors, expected one tensor")
        return self.resolve(name)

    def optional_input(self, op: Op, key: int | str) -> str | None:
        name = op.input(key)
        return None if name is None else self.resolve(name)

    def input_list(self, op: Op, key: int | str) -> list[str]:
        """Return the ONNX names of the tensors in list operand ``key``."""
        name = op.input(key)
        if name is None or name not in self.graph.lists:
            raise Unsupported(f"operand {key!r} is not a list built by builtin.combine")
        return [self.resolve(n) for n in self.graph.lists[name]]

    def const(self, op: Op, key: int | str):
        """Return operand ``key`` as a numpy value when known at export time, else None."""
        return self.graph.constant(op.input(key))

    def require_const(self, op: Op, key: int | str, what: str):
        value = self.const(op, key)
        if value is None:
            raise Unsupported(f"{what} must be a constant, but it is computed at run time")
        return value

    def value(self, name: str) -> Value:
        return self.graph.values[name]

    def in_value(self, op: Op, key: int | str) -> Value:
        return self.graph.values[op.input(key)]

    def out_value(self, op: Op, i: int = 0) -> Value:
        return self.graph.values[op.outputs[i]]

    def dtype(self, op: Op, key: int | str) -> str:
        return self.in_value(op, key).dtype

    def rank(self, op: Op, key: int | str) -> int:
        rank = self.in_value(op, key).rank
        if rank is None:
            raise Unsupported(f"operand {key!r} has unknown rank")
        return rank

    # --- writing results ------------------------------------------------------------------

    def out(self, op: Op, i: int = 0) -> str:
        return op.outputs[i]

    def alias(self, name: str, source: str) -> None:
        """Make graph value ``name`` stand for the existing ONNX value ``source``."""
        self._alias[name] = self.resolve(source)

    def node(self, op_type: str, inputs, outputs=1, **attrs):
        return self.builder.node(op_type, inputs, outputs, **attrs)

    def const_tensor(self, value, dtype=None, hint: str = "const") -> str:
        return self.builder.const(value, dtype, hint)

    def scalar(self, value, dtype: str, hint: str = "scalar") -> str:
        """Return a 0-d constant of ``dtype`` (numpy's ``astype`` rules: floats truncate)."""
        return self.builder.const(np.asarray(value).astype(dtype), hint=hint)

    def unsqueeze(self, name: str, axes, outputs=1):
        """Insert size-1 dims at ``axes``: an attribute before opset 13, an input since."""
        axes = [int(a) for a in axes]
        if self.opset >= 13:
            return self.node("Unsqueeze", [name, self.int64s(axes, "axes")], outputs)
        return self.node("Unsqueeze", [name], outputs, axes=axes)

    def cast(self, name: str, dtype: str) -> str:
        return self.node("Cast", [name], to=onnx_dtype(dtype))

    def int64s(self, values, hint: str = "ints") -> str:
        return self.builder.const(np.asarray(values, dtype=np.int64).reshape(-1), hint=hint)
