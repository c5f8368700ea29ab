"""A small ONNX graph builder: fresh names, nodes, constants and initializers."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

_ONNX_DTYPES = {
    "float32": TensorProto.FLOAT,
    "float64": TensorProto.DOUBLE,
    "float16": TensorProto.FLOAT16,
    "bfloat16": TensorProto.BFLOAT16,
    "int8": TensorProto.INT8,
    "int16": TensorProto.INT16,
    "int32": TensorProto.INT32,
    "int64": TensorProto.INT64,
    "uint8": TensorProto.UINT8,
    "bool": TensorProto.BOOL,
    "complex64": TensorProto.COMPLEX64,
    "complex128": TensorProto.COMPLEX128,
}


def onnx_dtype(dtype: str) -> int:
    """Return the TensorProto element type for a numpy-style dtype name."""
    try:
        return _ONNX_DTYPES[str(dtype)]
    except KeyError:
        raise ValueError(f"dtype {dtype!r} has no ONNX element type") from None


def tensor_proto(array: np.ndarray, name: str, dtype: str | None = None) -> onnx.TensorProto:
    """Make an initializer; ``dtype='bfloat16'`` reads ``array`` as raw uint16 bits."""
    if dtype == "bfloat16":
        bits = _contiguous(array).view(np.uint16)
        proto = helper.make_tensor(
            name, TensorProto.BFLOAT16, bits.shape, bits.tobytes(), raw=True
        )
        return proto
    return numpy_helper.from_array(_contiguous(array), name)


def _contiguous(array) -> np.ndarray:
    # np.ascontiguousarray promotes a 0-d array to shape (1,); keep scalars 0-d.
    array = np.asarray(array)
    return np.ascontiguousarray(array).reshape(array.shape)


class GraphBuilder:
    """Collect nodes and initializers for one ONNX graph, handing out unique names."""

    def __init__(self, reserved=()):
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        self._used: set[str] = set(reserved)
        self._counts: dict[str, int] = {}
        self._constants: dict[tuple, str] = {}
        # Node op types appended since the last call to take_emitted().
        self._emitted: list[str] = []

    def fresh(self, hint: str) -> str:
        """Return a name not used anywhere in the graph yet, based on ``hint``."""
        n = self._counts.get(hint, 0)
        while True:
            name = hint if n == 0 else f"{hint}__{n}"
            n += 1
            if name not in self._used:
                self._counts[hint] = n
                self._used.add(name)
                return name

    def node(self, op_type: str, inputs, outputs=1, *, domain: str = "", **attrs):
        """Append a node; ``outputs`` is a count (fresh names) or a list of names.

        Returns the single output name, or the list when there are several.
        """
        if isinstance(outputs, int):
            outputs = [self.fresh(f"{op_type.lower()}_out") for _ in range(outputs)]
        else:
            for name in outputs:
                self._used.add(name)
        attrs = {k: v for k, v in attrs.items() if v is not None}
        inputs = ["" if i is None else i for i in inputs]
        name = self.fresh(f"{op_type}_node")
        self.nodes.append(
            helper.make_node(op_type, inputs, list(outputs), name=name, domain=domain, **attrs)
        )
        self._emitted.append(op_type)
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def initializer(self, array: np.ndarray, hint: str, dtype: str | None = None) -> str:
        name = hint if hint not in self._used else self.fresh(hint)
        self._used.add(name)
        self.initializers[name] = tensor_proto(array, name, dtype)
        return name

    def const(self, value, dtype=None, hint: str = "const") -> str:
        """Return the name of an initializer holding ``value`` (deduplicated when small)."""
        array = np.asarray(value, dtype=dtype)
        key = None
        if array.size <= 64:
            key = (array.dtype.str, array.shape, array.tobytes())
            if key in self._constants:
                return self._constants[key]
        name = self.initializer(array, self.fresh(hint))
        if key is not None:
            self._constants[key] = name
        return name

    def take_emitted(self) -> list[str]:
        emitted, self._emitted = self._emitted, []
        return emitted
