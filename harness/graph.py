"""The neutral graph that capture produces and export consumes.

Nothing here imports Paddle: a Graph is plain Python and numpy, so mappings and tests can
build one by hand.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

# Ops whose result is a constant the exporter can read at export time.
CONSTANT_OPS = ("pd_op.full", "pd_op.full_int_array", "pd_op.assign_value_")


@dataclass(frozen=True)
class Value:
    """A tensor (or list of tensors) flowing between ops.

    ``shape`` uses ``None`` for a dynamic dim; it is ``None`` altogether for a list value
    (the result of ``builtin.combine``) and for values of unknown rank.
    """

    name: str
    shape: tuple[int | None, ...] | None
    dtype: str | None

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    @property
    def is_static(self) -> bool:
        return self.shape is not None and all(d is not None for d in self.shape)


@dataclass
class Op:
    """One op of the program, in program order.

    ``inputs`` holds value names, ``None`` for an absent optional operand. ``input_names``
    holds Paddle's operand names where it has them (``x``, ``filter``...).
    """

    name: str
    attrs: dict
    inputs: list[str | None]
    outputs: list[str]
    input_names: list[str] = field(default_factory=list)
    index: int = 0

    def input(self, key: int | str) -> str | None:
        """Return the value name of operand ``key`` (position or Paddle operand name)."""
        if isinstance(key, str):
            if key not in self.input_names:
                return None
            key = self.input_names.index(key)
        return self.inputs[key] if key < len(self.inputs) else None

    def __repr__(self) -> str:
        return f"Op#{self.index}({self.name}, in={self.inputs}, out={self.outputs})"


@dataclass
class Graph:
    """A captured program: ops in order, inputs, outputs, parameters and value facts."""

    ops: list[Op]
    inputs: list[str]
    outputs: list[str]
    values: dict[str, Value]
    params: dict[str, np.ndarray]
    # Elements of list values built by builtin.combine, by the list's name.
    lists: dict[str, list[str]] = field(default_factory=dict)
    source: str = ""

    def value(self, name: str) -> Value:
        return self.values[name]

    def producer(self, name: str) -> Op | None:
        """Return the op whose result is ``name``, or None for inputs and parameters."""
        producers = self._producers()
        return producers.get(name)

    def consumers(self, name: str) -> list[Op]:
        return [op for op in self.ops if name in op.inputs]

    def op_counts(self) -> Counter:
        return Counter(op.name for op in self.ops)

    def constant(self, name: str | None):
        """Return the numpy value of ``name`` when it is known at export time, else None.

        Resolves results of ``pd_op.full``, ``pd_op.full_int_array`` and ``assign_value_``,
        casts of them, and lists of such values built by ``builtin.combine`` (a list).
        """
        if name is None:
            return None
        if name in self.lists:
            parts = [self.constant(p) for p in self.lists[name]]
            return None if any(p is None for p in parts) else parts
        op = self.producer(name)
        if op is not None and op.name == "pd_op.cast":
            # F.interpolate(size=Tensor) and F.pad(pad=Tensor) cast a constant to int32.
            inner = self.constant(op.inputs[0])
            dtype = self.values[name].dtype
            if inner is None or isinstance(inner, list) or dtype is None:
                return None
            return np.asarray(inner).astype(dtype)
        if op is None or op.name not in CONSTANT_OPS:
            return None
        return constant_of(op, self.values[name])

    def _producers(self) -> dict[str, Op]:
        cache = self.__dict__.get("_producer_cache")
        if cache is None or cache[0] != len(self.ops):
            table = {out: op for op in self.ops for out in op.outputs}
            cache = (len(self.ops), table)
            self.__dict__["_producer_cache"] = cache
        return cache[1]


def constant_of(op: Op, value: Value) -> np.ndarray:
    """Materialise the array a constant-producing op makes."""
    dtype = np.dtype(value.dtype or "float32")
    if op.name == "pd_op.full":
        shape = tuple(int(d) for d in op.attrs.get("shape", []))
        return np.full(shape, op.attrs["value"], dtype=dtype)
    if op.name == "pd_op.full_int_array":
        return np.asarray(op.attrs["value"], dtype=dtype).reshape(-1)
    # assign_value_: a flat list of values and a shape.
    shape = tuple(int(d) for d in op.attrs.get("shape", []))
    return np.asarray(op.attrs["values"], dtype=dtype).reshape(shape)
