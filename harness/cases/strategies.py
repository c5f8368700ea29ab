"""Shared Hypothesis strategies: shapes, dtypes, dynamic dims and tensor values.

A case draws a program through ``program()``: the layer, the inputs with symbolic dims,
the sizes of those dims and which of them are dynamic. The tensor values are drawn by
Hypothesis element by element, so shrinking reaches the data too.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import paddle
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from harness.cases.spec import CaseProgram

# Past this many elements a tensor is filled from a drawn seed instead of element by
# element: drawing thousands of floats makes Hypothesis slow and hits its size limits.
MAX_DRAWN_ELEMENTS = 512


@dataclass(frozen=True)
class Input:
    """One layer input: its name, its shape (ints, or names of symbolic dims), its dtype.

    ``low``/``high`` bound the drawn values; ``elements`` replaces them with any strategy.
    """

    name: str
    shape: tuple
    dtype: str = "float32"
    low: float = -4.0
    high: float = 4.0
    elements: Any = None


def floats(low=-4.0, high=4.0, dtype="float32"):
    """Finite floats in [low, high]; no subnormals, since runtimes may flush them to zero.

    Bounds that the dtype cannot represent exactly (-1.4 in float32) are rounded inward.
    """
    width = {"float16": 16, "float32": 32}.get(dtype, 64)
    if width < 64:
        kind = np.float16 if width == 16 else np.float32
        low, high = _inward(low, kind, +1), _inward(high, kind, -1)
    return st.floats(
        low, high, width=width, allow_nan=False, allow_infinity=False, allow_subnormal=False
    )


def _inward(bound, kind, direction: int) -> float:
    """Round ``bound`` to ``kind``, stepping towards the inside of the range if needed."""
    if bound is None:
        return None
    rounded = kind(bound)
    if direction > 0 and float(rounded) < bound or direction < 0 and float(rounded) > bound:
        rounded = np.nextafter(rounded, kind(np.inf * direction))
    return float(rounded)


def elements_for(spec: Input):
    if spec.elements is not None:
        return spec.elements
    dtype = np.dtype(spec.dtype)
    if dtype == np.bool_:
        return st.booleans()
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return st.integers(max(int(spec.low), info.min), min(int(spec.high), info.max))
    return floats(spec.low, spec.high, spec.dtype)


def _array(draw, spec: Input, shape: tuple, seed: int) -> np.ndarray:
    size = int(np.prod(shape)) if shape else 1
    if size <= MAX_DRAWN_ELEMENTS:
        return draw(
            hnp.arrays(
                np.dtype(spec.dtype), shape, elements=elements_for(spec), fill=st.nothing()
            )
        )
    rng = np.random.default_rng(seed)
    dtype = np.dtype(spec.dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dtype, np.integer):
        return rng.integers(int(spec.low), int(spec.high) + 1, shape).astype(dtype)
    return rng.uniform(spec.low, spec.high, shape).astype(dtype)


def concrete(shape: tuple, sizes: dict[str, int]) -> tuple[int, ...]:
    return tuple(sizes[d] if isinstance(d, str) else int(d) for d in shape)


def program(
    draw,
    layer,
    inputs: Sequence[Input],
    sizes: dict[str, int] | None = None,
    dynamic: Sequence[str] = (),
    attrs: dict | None = None,
) -> CaseProgram:
    """Build a CaseProgram for ``layer`` taking ``inputs``.

    ``sizes`` gives each symbolic dim its drawn size; the dims named in ``dynamic`` become
    ``None`` in the InputSpecs, and the program gets extra input sets with those dims at
    size 1 and at a second size, so the export is run at several concrete sizes.
    """
    sizes = dict(sizes or {})
    specs = [
        paddle.static.InputSpec(
            [
                None if (isinstance(d, str) and d in dynamic) else concrete((d,), sizes)[0]
                for d in spec.shape
            ],
            spec.dtype,
            spec.name,
        )
        for spec in inputs
    ]
    variants = [sizes]
    if dynamic:
        variants.append({**sizes, **{d: 1 for d in dynamic}})
        variants.append({**sizes, **{d: sizes[d] + 2 for d in dynamic}})
    seed = draw(st.integers(0, 2**16))
    input_sets = [
        [
            _array(draw, spec, concrete(spec.shape, v), seed + k)
            for k, spec in enumerate(inputs)
        ]
        for v in variants
    ]
    return CaseProgram(layer, specs, input_sets, dict(attrs or {}), seed)


def dims(min_size=1, max_size=5):
    return st.integers(min_size, max_size)


def shapes(min_rank=1, max_rank=4, min_side=1, max_side=5):
    return st.lists(dims(min_side, max_side), min_size=min_rank, max_size=max_rank).map(tuple)


def dynamic_subset(draw, names: Sequence[str]) -> list[str]:
    """Draw which of the symbolic dims ``names`` are dynamic (possibly none)."""
    return [n for n in names if draw(st.booleans())]


def broadcast_partner(draw, shape: tuple) -> tuple:
    """Draw a shape that numpy-broadcasts against ``shape`` (suffix, with some dims 1)."""
    keep = draw(st.integers(0, len(shape)))
    tail = shape[len(shape) - keep :]
    return tuple(1 if draw(st.booleans()) else d for d in tail)


def binary_program(draw, layer, dtype, x_elements=None, y_elements=None, min_rank=0):
    """Build a program whose inputs x and y broadcast against each other.

    x's dims are named ``x0``...; the dims of y that line up with a dim of x of the same
    size (not 1) share its name, so a dynamic batch dim ``x0`` stays consistent.
    """
    shape = draw(shapes(min_rank, 4))
    other = broadcast_partner(draw, shape)
    if draw(st.booleans()):
        shape, other = other, shape
    names = tuple(f"x{i}" for i in range(len(shape)))
    dynamic = ["x0"] if shape and shape[0] != 1 and draw(st.booleans()) else []
    offset = len(shape) - len(other)
    y_shape = tuple(
        names[i + offset] if i + offset >= 0 and d == shape[i + offset] and d != 1 else d
        for i, d in enumerate(other)
    )
    y_elements = y_elements if y_elements is not None else x_elements
    return program(
        draw,
        layer,
        [
            Input("x", names, dtype, elements=x_elements),
            Input("y", y_shape, dtype, elements=y_elements),
        ],
        dict(zip(names, shape)),
        dynamic,
        attrs={"x": shape, "y": other, "dtype": dtype},
    )


def fn_layer(fn, params: dict[str, np.ndarray] | None = None):
    """Wrap ``fn(*inputs, **params)`` as a Layer; ``params`` become its parameters.

    ``fn`` must be a module-level function taking its inputs positionally, then the
    parameters by keyword (to_static reads its source and needs a fixed arity).
    """
    names = list(params or {})
    signature = inspect.signature(fn).parameters.values()
    # Only parameters without defaults are inputs (F.mish has name=None, say).
    arity = len([p for p in signature if p.name not in names and p.default is p.empty])
    base = _FN_LAYERS.get(arity)
    if base is None:
        raise ValueError(f"fn_layer supports 1 to {max(_FN_LAYERS)} inputs, got {arity}")

    class FnLayer(base):
        def __init__(self):
            paddle.nn.Layer.__init__(self)
            self._fn = fn
            self._names = names
            for name, value in (params or {}).items():
                value = np.asarray(value)
                p = self.create_parameter(
                    list(value.shape),
                    dtype=str(value.dtype),
                    default_initializer=paddle.nn.initializer.Assign(value),
                )
                setattr(self, name, p)

    FnLayer.__name__ = FnLayer.__qualname__ = f"FnLayer_{fn.__name__}"
    return FnLayer()


class _Fn1(paddle.nn.Layer):
    def forward(self, x0):
        return self._fn(x0, **{n: getattr(self, n) for n in self._names})


class _Fn2(paddle.nn.Layer):
    def forward(self, x0, x1):
        return self._fn(x0, x1, **{n: getattr(self, n) for n in self._names})


class _Fn3(paddle.nn.Layer):
    def forward(self, x0, x1, x2):
        return self._fn(x0, x1, x2, **{n: getattr(self, n) for n in self._names})


class _Fn4(paddle.nn.Layer):
    def forward(self, x0, x1, x2, x3):
        return self._fn(x0, x1, x2, x3, **{n: getattr(self, n) for n in self._names})


_FN_LAYERS = {1: _Fn1, 2: _Fn2, 3: _Fn3, 4: _Fn4}
