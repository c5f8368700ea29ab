"""Cases for harness/export/tensor.py: constants, lists and shape manipulation.

These ops move data without arithmetic, so every case draws float32, int64 and bool
tensors alike (outputs must match exactly for the integer and bool ones).
"""

import numpy as np
import paddle
from hypothesis import strategies as st

from harness.cases import CaseProgram, OpCase, case_tests
from harness.cases.strategies import Input, broadcast_partner, floats, program, shapes

DTYPES = ("float32", "int64", "bool")
# paddle.tile and paddle.expand refuse to trace a bool input that may need a gradient,
# which every InputSpec's does.
NO_BOOL = ("float32", "int64")


class _Apply1(paddle.nn.Layer):
    """Call ``fn(x, **attrs)``: the drawn attributes reach to_static as Python constants."""

    def __init__(self, fn, **attrs):
        super().__init__()
        self.fn = fn
        self.attrs = attrs

    def forward(self, x0):
        return self.fn(x0, **self.attrs)


class _Apply2(_Apply1):
    def forward(self, x0, x1):
        return self.fn(x0, x1, **self.attrs)


class _Apply3(_Apply1):
    def forward(self, x0, x1, x2):
        return self.fn(x0, x1, x2, **self.attrs)


_APPLY = {1: _Apply1, 2: _Apply2, 3: _Apply3}


def _apply(fn, n_inputs: int = 1, **attrs):
    return _APPLY[n_inputs](fn, **attrs)


def _symbolic(draw, shape, prefix="d", allowed=None):
    """Name each dim of ``shape``; return (symbolic shape, sizes, drawn dynamic dims).

    Only dims whose index is in ``allowed`` (all by default) may be drawn dynamic.
    """
    names = tuple(f"{prefix}{i}" for i in range(len(shape)))
    sizes = dict(zip(names, shape))
    allowed = range(len(shape)) if allowed is None else allowed
    dynamic = [names[i] for i in allowed if draw(st.booleans())]
    return names, sizes, dynamic


def _signed(draw, axis: int, rank: int) -> int:
    """Return ``axis`` or its negative spelling, as drawn."""
    return axis - rank if draw(st.booleans()) else axis


# --- constants -------------------------------------------------------------------------------


def _add_full(x, *, shape, value, dtype):
    return x + paddle.full(shape, value, dtype)


def _concat_full(x, *, shape, value, dtype):
    return paddle.concat([x, paddle.full(shape, value, dtype)], axis=0)


def _value(draw, dtype):
    if dtype == "bool":
        return draw(st.booleans())
    if dtype == "int64":
        return draw(st.integers(-100, 100))
    return draw(floats(-100, 100))


@st.composite
def full_broadcast_programs(draw):
    """``x + paddle.full(shape, v)``: the constant is read at run time, 0-d included."""
    dtype = draw(st.sampled_from(("float32", "int64")))
    shape = draw(shapes(1, 3))
    const_shape = broadcast_partner(draw, shape)
    offset = len(shape) - len(const_shape)
    # A dim of x can be dynamic where the constant broadcasts along it.
    free = [i for i in range(len(shape)) if i < offset or const_shape[i - offset] == 1]
    names, sizes, dynamic = _symbolic(draw, shape, allowed=free)
    value = _value(draw, dtype)
    layer = _apply(_add_full, shape=list(const_shape), value=value, dtype=dtype)
    attrs = {"shape": const_shape, "value": value, "dtype": dtype}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


@st.composite
def full_concat_programs(draw):
    """``concat([x, paddle.full(...)])``: a constant of every dtype, bool included."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(1, 3))
    const_shape = (draw(st.integers(1, 3)),) + shape[1:]
    names, sizes, dynamic = _symbolic(draw, shape, allowed=[0])
    value = _value(draw, dtype)
    layer = _apply(_concat_full, shape=list(const_shape), value=value, dtype=dtype)
    attrs = {"shape": const_shape, "value": value, "dtype": dtype}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


def _concat_to_tensor(x, *, values, dtype):
    return paddle.concat([x, paddle.to_tensor(values, dtype=dtype)], axis=0)


@st.composite
def assign_value_programs(draw):
    """``concat([x, paddle.to_tensor(list)])``: a literal tensor made by assign_value_."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(1, 3, max_side=3))
    const_shape = (draw(st.integers(1, 3)),) + shape[1:]
    values = np.asarray(
        [_value(draw, dtype) for _ in range(int(np.prod(const_shape)))], dtype=dtype
    )
    values = values.reshape(const_shape).tolist()
    names, sizes, dynamic = _symbolic(draw, shape, allowed=[0])
    layer = _apply(_concat_to_tensor, values=values, dtype=dtype)
    attrs = {"values": values, "dtype": dtype}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


# --- reshaping -------------------------------------------------------------------------------


def _reshape(x, *, shape):
    return paddle.reshape(x, shape)


def _factor(draw, n: int, rank: int) -> list[int]:
    dims = []
    for _ in range(rank - 1):
        d = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
        dims.append(d)
        n //= d
    return dims + [n] if rank else []


def _reshaped(target, shape) -> list[int] | None:
    """Paddle's result shape for ``target`` (0 copies, -1 infers), or None if invalid."""
    dims = [shape[i] if t == 0 else t for i, t in enumerate(target)]
    numel, known = int(np.prod(shape)), int(np.prod([d for d in dims if d != -1]))
    if -1 in dims:
        return None if known == 0 or numel % known else dims
    return dims if known == numel else None


@st.composite
def reshape_programs(draw):
    """Reshape to a drawn factorization, with 0 (copy) and -1 (infer) entries."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(1, 4, max_side=4))
    numel = int(np.prod(shape))
    rank = draw(st.integers(0 if numel == 1 else 1, 4))
    target = _factor(draw, numel, rank)
    for i in range(min(rank, len(shape))):
        if target[i] == shape[i] and draw(st.booleans()):
            target[i] = 0
    if rank and draw(st.booleans()):
        target[draw(st.integers(0, rank - 1))] = -1
    names, sizes, dynamic = _symbolic(draw, shape)
    # Keep only dynamic dims the target stays valid for at every size the runner tries.
    for size in (1, 3):
        varied = [size if n in dynamic else d for n, d in zip(names, shape)]
        if _reshaped(target, varied) is None:
            dynamic = []
    layer = _apply(_reshape, shape=target)
    attrs = {"x": shape, "shape": target}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


def _flatten(x, *, start, stop):
    return paddle.flatten(x, start, stop)


@st.composite
def flatten_programs(draw):
    """Flatten any start..stop range (Flatten where it is exactly 2-D, else Reshape)."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(0, 5, max_side=3))
    rank = len(shape)
    start = draw(st.integers(0, max(rank - 1, 0)))
    stop = draw(st.integers(start, max(rank - 1, 0)))
    start, stop = _signed(draw, start, max(rank, 1)), _signed(draw, stop, max(rank, 1))
    names, sizes, dynamic = _symbolic(draw, shape)
    layer = _apply(_flatten, start=start, stop=stop)
    attrs = {"x": shape, "start": start, "stop": stop}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


def _transpose(x, *, perm):
    return paddle.transpose(x, perm)


@st.composite
def transpose_programs(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(1, 5, max_side=3))
    perm = [_signed(draw, p, len(shape)) for p in draw(st.permutations(range(len(shape))))]
    names, sizes, dynamic = _symbolic(draw, shape)
    layer = _apply(_transpose, perm=perm)
    attrs = {"x": shape, "perm": perm}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


def _squeeze(x, *, axis):
    return paddle.squeeze(x, axis)


@st.composite
def squeeze_programs(draw):
    """Squeeze named axes (size 1 or not: Paddle keeps the others) or all of them."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.sampled_from((1, 1, 2, 3)), min_size=1, max_size=5)))
    rank = len(shape)
    named = draw(st.lists(st.integers(0, rank - 1), max_size=3))
    axis = [_signed(draw, a, rank) for a in named]
    if len(axis) == 1 and draw(st.booleans()):
        axis = axis[0]  # an int spelling
    elif not axis and draw(st.booleans()):
        axis = None
    # A named dim must be static: whether Paddle drops a dynamic one depends on its size.
    free = [i for i in range(rank) if i not in named] if named else None
    names, sizes, dynamic = _symbolic(draw, shape, allowed=free)
    layer = _apply(_squeeze, axis=axis)
    attrs = {"x": shape, "axis": axis}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


def _squeeze_dynamic_program():
    """``squeeze(x, 0)`` with dim 0 dynamic: its rank would depend on the input.

    Nothing is drawn: an expected failure then leaves Hypothesis nothing to shrink.
    """
    spec = paddle.static.InputSpec([None, 3], "float32", "x")
    inputs = [[np.ones((n, 3), np.float32)] for n in (2, 1, 4)]
    return CaseProgram(_apply(_squeeze, axis=0), [spec], inputs, {"x": ("n", 3), "axis": 0})


def _unsqueeze(x, *, axis):
    return paddle.unsqueeze(x, axis)


@st.composite
def unsqueeze_programs(draw):
    """Insert 1-3 axes, each counted in the rank reached so far (negatives, repeats)."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(0, 3, max_side=3))
    count = draw(st.integers(1, 3))
    axis = [draw(st.integers(-(len(shape) + k + 1), len(shape) + k)) for k in range(count)]
    if count == 1 and draw(st.booleans()):
        axis = axis[0]
    names, sizes, dynamic = _symbolic(draw, shape)
    layer = _apply(_unsqueeze, axis=axis)
    attrs = {"x": shape, "axis": axis}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


# --- joining and splitting -------------------------------------------------------------------


def _concat(*xs, axis):
    return paddle.concat(list(xs), axis=axis)


@st.composite
def concat_programs(draw):
    """Concatenate 1-3 tensors along a drawn axis; any dim may be dynamic."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(1, 3, max_side=3))
    n = draw(st.integers(1, 3))
    axis = draw(st.integers(0, len(shape) - 1))
    names, sizes, dynamic = _symbolic(draw, shape)
    inputs = []
    for k in range(n):
        # Each input has its own size along the axis, all others are shared.
        own = f"a{k}"
        sizes[own] = draw(st.integers(1, 3))
        if draw(st.booleans()):
            dynamic.append(own)
        sym = names[:axis] + (own,) + names[axis + 1 :]
        inputs.append(Input(f"x{k}", sym, dtype))
    dynamic = [d for d in dynamic if d != names[axis]]
    layer = _apply(_concat, n, axis=_signed(draw, axis, len(shape)))
    attrs = {"x": shape, "n": n, "axis": layer.attrs["axis"]}
    return program(draw, layer, inputs, sizes, dynamic, attrs)


def _split(x, *, sections, axis):
    return paddle.split(x, sections, axis)


def _split_recombined(x, *, sections, axis):
    # The pieces go back through builtin.combine, in reverse order.
    return paddle.concat(paddle.split(x, sections, axis)[::-1], axis=axis)


@st.composite
def split_programs(draw, fn=_split):
    """Split into drawn sections (zero-size ones too), one of them maybe -1."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(1, 3, max_side=5))
    rank = len(shape)
    axis = draw(st.integers(0, rank - 1))
    # Paddle allows at most as many sections as the axis is long.
    count = min(3, shape[axis] - 1)
    cuts = sorted(draw(st.lists(st.integers(0, shape[axis]), max_size=count)))
    bounds = [0] + cuts + [shape[axis]]
    sections = [b - a for a, b in zip(bounds, bounds[1:])]
    # Paddle wants the -1 section to be at least 1 long.
    nonzero = [k for k, s in enumerate(sections) if s > 0]
    if nonzero and draw(st.booleans()):
        sections[draw(st.sampled_from(nonzero))] = -1
    others = [i for i in range(rank) if i != axis]
    names, sizes, dynamic = _symbolic(draw, shape, allowed=others)
    layer = _apply(fn, sections=sections, axis=_signed(draw, axis, rank))
    attrs = {"x": shape, **layer.attrs}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


def _split_tripled(x, *, sections, axis):
    # Tripling x along the axis keeps it dynamic but at least 3 long at run time.
    return paddle.split(paddle.concat([x, x, x], axis), sections, axis)


@st.composite
def split_dynamic_programs(draw):
    """A -1 section on a dynamic axis: the pieces around it are sliced from both ends.

    The axis is at least 3 long (see ``_split_tripled``), so the known sections sum to 2
    at most and the -1 one is never empty, as Paddle requires.
    """
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(1, 3, max_side=3))
    rank = len(shape)
    axis = draw(st.integers(0, rank - 1))
    pieces = st.lists(st.sampled_from((0, 1, 2)), max_size=2)
    sections = list(draw(pieces.filter(lambda s: sum(s) <= 2)))
    sections.insert(draw(st.integers(0, len(sections))), -1)
    names, sizes, dynamic = _symbolic(draw, shape)
    dynamic = sorted(set(dynamic) | {names[axis]})
    layer = _apply(_split_tripled, sections=sections, axis=_signed(draw, axis, rank))
    attrs = {"x": shape, **layer.attrs}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


def _split_with_num(x, *, num, axis):
    return paddle.split(x, num, axis)


@st.composite
def split_with_num_programs(draw):
    """Split into ``num`` equal pieces; the axis is dynamic only when num is 1."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = list(draw(shapes(1, 3, max_side=3)))
    rank = len(shape)
    axis = draw(st.integers(0, rank - 1))
    num = draw(st.integers(1, 4))
    shape[axis] *= num
    allowed = range(rank) if num == 1 else [i for i in range(rank) if i != axis]
    names, sizes, dynamic = _symbolic(draw, tuple(shape), allowed=allowed)
    layer = _apply(_split_with_num, num=num, axis=_signed(draw, axis, rank))
    attrs = {"x": shape, **layer.attrs}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


# --- shapes, slices and broadcasting ---------------------------------------------------------


def _shape64(x):
    return paddle.shape(x)


def _shape32(x):
    # What legacy programs call; the public API now makes shape64.
    return paddle._C_ops.shape(x)


@st.composite
def shape_programs(draw, fn=_shape64):
    """The shape of a tensor of any dtype, returned as an output (dynamic dims too)."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(0, 4, max_side=3))
    names, sizes, dynamic = _symbolic(draw, shape)
    return program(draw, _apply(fn), [Input("x", names, dtype)], sizes, dynamic, {"x": shape})


def _reshape_like(x, y, *, int32):
    shape = paddle.shape(y)
    return paddle.reshape(x, shape.astype("int32") if int32 else shape)


@st.composite
def reshape_runtime_programs(draw):
    """Reshape x to the run-time shape of y (its dims permuted), int64 or int32.

    Eager Paddle 3.3 fails on a shape tensor of one element, so y has rank 2 or more.
    """
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(2, 4, max_side=3))
    names, sizes, dynamic = _symbolic(draw, shape)
    y_names = tuple(draw(st.permutations(names)))
    layer = _apply(_reshape_like, 2, int32=draw(st.booleans()))
    inputs = [Input("x", names, dtype), Input("y", y_names)]
    attrs = {"x": names, "y": y_names, **layer.attrs}
    return program(draw, layer, inputs, sizes, dynamic, attrs)


def _slice(x, *, axes, starts, ends):
    return paddle.slice(x, axes, starts, ends)


@st.composite
def slice_programs(draw):
    """paddle.slice with bounds past either end, negative ones, and empty results."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(1, 4, max_side=4))
    rank = len(shape)
    axes = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
    bound = st.one_of(st.integers(-6, 6), st.just(2**31 - 1))
    starts = [draw(bound) for _ in axes]
    ends = [draw(bound) for _ in axes]
    names, sizes, dynamic = _symbolic(draw, shape)
    axes = [_signed(draw, a, rank) for a in axes]
    layer = _apply(_slice, axes=axes, starts=starts, ends=ends)
    attrs = {"x": shape, **layer.attrs}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


def _index(x, *, key):
    return x[key]


@st.composite
def slice_index_programs(draw):
    """``x[i, a:b, ...]``: integer indices become slice's decrease_axis."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(1, 4, max_side=4))
    key, indexed = [], []
    for i, d in enumerate(shape):
        kind = draw(st.sampled_from(("int", "range", "all")))
        if kind == "int":
            key.append(draw(st.integers(-d, d - 1)))
            indexed.append(i)
        elif kind == "range":
            key.append(slice(draw(st.integers(-d, d)), draw(st.integers(-d, d))))
            indexed.append(i)
        else:
            key.append(slice(None))
    if not any(isinstance(k, int) for k in key):
        # Ranges alone may cover whole dims, and then Paddle makes no slice op at all.
        key[0] = draw(st.integers(-shape[0], shape[0] - 1))
        indexed = sorted(set(indexed) | {0})
    free = [i for i in range(len(shape)) if i not in indexed]
    names, sizes, dynamic = _symbolic(draw, shape, allowed=free)
    layer = _apply(_index, key=tuple(key))
    attrs = {"x": shape, "key": repr(tuple(key))}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


def _last_column(x):
    # The start is computed at run time: shape64 -> slice -> scale -> stack -> slice.
    return x[:, paddle.shape(x)[1] - 1]


@st.composite
def slice_runtime_programs(draw):
    shape = draw(shapes(2, 3, max_side=4))
    names, sizes, dynamic = _symbolic(draw, shape)
    return program(draw, _apply(_last_column), [Input("x", names)], sizes, dynamic)


def _stack(*xs, axis):
    return paddle.stack(list(xs), axis=axis)


@st.composite
def stack_programs(draw):
    """Stack 1-3 tensors (0-d ones too) along a new axis, negative allowed."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(0, 3, max_side=3))
    n = draw(st.integers(1, 3))
    axis = _signed(draw, draw(st.integers(0, len(shape))), len(shape) + 1)
    names, sizes, dynamic = _symbolic(draw, shape)
    inputs = [Input(f"x{k}", names, dtype) for k in range(n)]
    layer = _apply(_stack, n, axis=axis)
    return program(draw, layer, inputs, sizes, dynamic, {"x": shape, "n": n, "axis": axis})


def _full_like_shape(x, *, tail, value, dtype):
    # [batch, *tail]: the shape is a stack of a run-time dim and constants.
    return paddle.full([paddle.shape(x)[0], *tail], value, dtype)


def _full_shape_of(x, y, *, dtype):
    # Both the shape and the fill value arrive at run time.
    return paddle.full(paddle.shape(x), y, dtype)


@st.composite
def full_with_tensor_programs(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(1, 3, max_side=3))
    names, sizes, dynamic = _symbolic(draw, shape)
    tail = list(draw(shapes(0, 2, max_side=3)))
    value = _value(draw, dtype)
    layer = _apply(_full_like_shape, tail=tail, value=value, dtype=dtype)
    attrs = {"tail": tail, "value": value, "dtype": dtype}
    return program(draw, layer, [Input("x", names)], sizes, dynamic, attrs)


@st.composite
def full_with_tensor_value_programs(draw):
    """The fill value is a 0-d or [1] input, cast when ``dtype`` differs from it."""
    dtype = draw(st.sampled_from(DTYPES))
    value_dtype = draw(st.sampled_from(("float32", dtype)))
    shape = draw(shapes(2, 3, max_side=3))  # see reshape_runtime_programs
    names, sizes, dynamic = _symbolic(draw, shape)
    value = Input("y", draw(st.sampled_from(((), (1,)))), value_dtype, -100, 100)
    layer = _apply(_full_shape_of, 2, dtype=dtype)
    attrs = {"x": shape, "dtype": dtype, "value_dtype": value_dtype}
    return program(draw, layer, [Input("x", names), value], sizes, dynamic, attrs)


def _full_like(x, *, value, dtype):
    return paddle.full_like(x, value, dtype=dtype)


@st.composite
def full_like_programs(draw):
    """``paddle.full_like`` / ``zeros_like`` / ``ones_like``, to the same or another dtype."""
    x_dtype = draw(st.sampled_from(DTYPES))
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(0, 3, max_side=3))
    names, sizes, dynamic = _symbolic(draw, shape)
    value = _value(draw, dtype)
    layer = _apply(_full_like, value=value, dtype=dtype)
    attrs = {"x": shape, "x_dtype": x_dtype, "value": value, "dtype": dtype}
    return program(draw, layer, [Input("x", names, x_dtype)], sizes, dynamic, attrs)


def _gather(x, index, *, axis):
    return paddle.gather(x, index, axis)


@st.composite
def gather_programs(draw):
    """Gather an int32/int64 index (0-d or 1-D, negatives too) along a constant axis."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes(1, 3, max_side=4))
    axis = draw(st.integers(0, len(shape) - 1))
    d = shape[axis]
    index_shape = draw(st.sampled_from(((), (1,), (2,), (4,))))
    index = Input("index", index_shape, draw(st.sampled_from(("int32", "int64"))), -d, d - 1)
    others = [i for i in range(len(shape)) if i != axis]
    names, sizes, dynamic = _symbolic(draw, shape, allowed=others)
    layer = _apply(_gather, 2, axis=_signed(draw, axis, len(shape)))
    attrs = {"x": shape, "index": index_shape, **layer.attrs}
    return program(draw, layer, [Input("x", names, dtype), index], sizes, dynamic, attrs)


def _cast(x, *, dtype):
    return paddle.cast(x, dtype)


@st.composite
def cast_programs(draw):
    """Between float32/float64/int32/int64/bool; floats keep off .5 edges by luck only
    mattering to rounding casts, which these are not (float to int truncates)."""
    kinds = ("float32", "float64", "int32", "int64", "bool")
    source, target = draw(st.sampled_from(kinds)), draw(st.sampled_from(kinds))
    shape = draw(shapes(0, 3, max_side=4))
    names, sizes, dynamic = _symbolic(draw, shape)
    x = Input("x", names, source, -100, 100)
    layer = _apply(_cast, dtype=target)
    return program(draw, layer, [x], sizes, dynamic, {"from": source, "to": target})


def _expand(x, *, shape):
    return paddle.expand(x, shape)


def _expand_like(x, y):
    return paddle.expand(x, paddle.shape(y))


@st.composite
def expand_programs(draw):
    """Expand size-1 dims and add leading ones; -1 keeps a dim (dynamic ones too)."""
    dtype = draw(st.sampled_from(NO_BOOL))
    shape = tuple(draw(st.lists(st.sampled_from((1, 1, 2, 3)), min_size=0, max_size=3)))
    lead = list(draw(shapes(0, 2, max_side=3)))
    target, keep = [], []
    for i, d in enumerate(shape):
        choice = draw(st.sampled_from(("keep", "grow") if d == 1 else ("keep", "same")))
        if choice == "keep":
            target.append(-1)
            keep.append(i)
        else:
            target.append(d if choice == "same" else draw(st.integers(1, 3)))
    if not lead and all(t in (-1, d) for t, d in zip(target, shape)):
        lead = [draw(st.integers(1, 3))]  # an expand to the same shape makes no op
    names, sizes, dynamic = _symbolic(draw, shape, allowed=keep)
    layer = _apply(_expand, shape=lead + target)
    attrs = {"x": shape, "shape": lead + target}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


@st.composite
def expand_runtime_programs(draw):
    """Expand x to the run-time shape of y, x broadcasting against it."""
    dtype = draw(st.sampled_from(NO_BOOL))
    shape = draw(shapes(2, 3, max_side=3))  # see reshape_runtime_programs
    names, sizes, dynamic = _symbolic(draw, shape)
    x_shape = tuple(1 if draw(st.booleans()) else n for n in names)
    x_shape = x_shape[draw(st.integers(0, len(x_shape))) :]
    inputs = [Input("x", x_shape, dtype), Input("y", names)]
    attrs = {"x": x_shape, "y": names}
    return program(draw, _apply(_expand_like, 2), inputs, sizes, dynamic, attrs)


def _tile(x, *, repeat_times):
    return paddle.tile(x, repeat_times)


def _tile_by_shape(x, y):
    return paddle.tile(x, paddle.shape(y))


@st.composite
def tile_programs(draw):
    """Repeat lists shorter than, as long as and longer than the rank."""
    dtype = draw(st.sampled_from(NO_BOOL))
    shape = draw(shapes(1, 3, max_side=3))
    repeats = draw(st.lists(st.integers(1, 3), min_size=1, max_size=len(shape) + 2))
    names, sizes, dynamic = _symbolic(draw, shape)
    layer = _apply(_tile, repeat_times=repeats)
    attrs = {"x": shape, "repeat_times": repeats}
    return program(draw, layer, [Input("x", names, dtype)], sizes, dynamic, attrs)


@st.composite
def tile_runtime_programs(draw):
    """Repeat counts computed at run time (the shape of y), of any length."""
    dtype = draw(st.sampled_from(NO_BOOL))
    shape = draw(shapes(1, 3, max_side=3))
    counts = draw(shapes(1, 4, max_side=2))
    names, sizes, dynamic = _symbolic(draw, shape)
    r_names, r_sizes, r_dynamic = _symbolic(draw, counts, prefix="r")
    inputs = [Input("x", names, dtype), Input("y", r_names)]
    attrs = {"x": shape, "repeats": counts}
    sizes.update(r_sizes)
    return program(draw, _apply(_tile_by_shape, 2), inputs, sizes, dynamic + r_dynamic, attrs)


CASES = [
    OpCase("pd_op.full", "broadcast", full_broadcast_programs(), "paddle.full"),
    OpCase("pd_op.full", "concat", full_concat_programs(), "paddle.full / paddle.ones"),
    OpCase(
        "pd_op.assign_value_",
        "to-tensor",
        assign_value_programs(),
        "paddle.to_tensor(list) inside a traced forward",
    ),
    OpCase(
        "pd_op.full_int_array",
        "reshape-shape",
        reshape_programs(),
        "paddle.reshape(x, [list of ints])",
    ),
    OpCase("builtin.combine", "concat", concat_programs(), "paddle.concat([...])"),
    OpCase("builtin.split", "split", split_programs(), "paddle.split"),
    OpCase(
        "builtin.split",
        "recombined",
        split_programs(_split_recombined),
        "paddle.concat(paddle.split(...))",
    ),
    OpCase(
        "pd_op.reshape", "const-shape", reshape_programs(), "paddle.reshape / Tensor.reshape"
    ),
    OpCase("pd_op.flatten", "range", flatten_programs(), "paddle.flatten / nn.Flatten"),
    OpCase("pd_op.transpose", "perm", transpose_programs(), "paddle.transpose"),
    OpCase("pd_op.squeeze", "axes", squeeze_programs(), "paddle.squeeze"),
    OpCase(
        "pd_op.squeeze",
        "dynamic-axis",
        st.builds(_squeeze_dynamic_program),
        "paddle.squeeze",
        xfail=(
            "squeeze of a dynamic dim: Paddle keeps it unless it is 1 at run time, so the "
            "rank of the result depends on the input"
        ),
    ),
    OpCase("pd_op.unsqueeze", "axes", unsqueeze_programs(), "paddle.unsqueeze"),
    OpCase("pd_op.concat", "axis", concat_programs(), "paddle.concat"),
    OpCase("pd_op.split", "sections", split_programs(), "paddle.split(x, [sections], axis)"),
    OpCase(
        "pd_op.split",
        "dynamic-rest",
        split_dynamic_programs(),
        "paddle.split(x, [..., -1, ...], axis)",
    ),
    OpCase(
        "pd_op.split_with_num",
        "num",
        split_with_num_programs(),
        "paddle.split(x, num) / chunk",
    ),
]

CASES += [
    OpCase(
        "pd_op.shape64", "any", shape_programs(), "paddle.shape / Tensor.shape at run time"
    ),
    OpCase("pd_op.shape", "int32", shape_programs(_shape32), "paddle._C_ops.shape (legacy)"),
    OpCase(
        "pd_op.reshape",
        "runtime-shape",
        reshape_runtime_programs(),
        "paddle.reshape(x, paddle.shape(y))",
    ),
    OpCase("pd_op.slice", "bounds", slice_programs(), "paddle.slice"),
    OpCase("pd_op.slice", "index", slice_index_programs(), "x[i, a:b]"),
    OpCase(
        "pd_op.slice",
        "runtime-start",
        slice_runtime_programs(),
        "x[:, paddle.shape(x)[1] - 1]",
    ),
    OpCase("pd_op.stack", "axis", stack_programs(), "paddle.stack"),
    OpCase(
        "pd_op.full_with_tensor",
        "runtime-dim",
        full_with_tensor_programs(),
        "paddle.full([paddle.shape(x)[0], ...], v)",
    ),
    OpCase(
        "pd_op.full_with_tensor",
        "runtime-value",
        full_with_tensor_value_programs(),
        "paddle.full(paddle.shape(x), tensor)",
    ),
    OpCase(
        "pd_op.full_like",
        "dtypes",
        full_like_programs(),
        "paddle.full_like / zeros_like / ones_like",
    ),
    OpCase("pd_op.gather", "axis", gather_programs(), "paddle.gather"),
    OpCase("pd_op.cast", "dtypes", cast_programs(), "paddle.cast / Tensor.astype"),
    OpCase("pd_op.expand", "const-shape", expand_programs(), "paddle.expand"),
    OpCase(
        "pd_op.expand",
        "runtime-shape",
        expand_runtime_programs(),
        "paddle.expand(x, paddle.shape(y))",
    ),
    OpCase("pd_op.tile", "const-repeats", tile_programs(), "paddle.tile"),
    OpCase(
        "pd_op.tile",
        "runtime-repeats",
        tile_runtime_programs(),
        "paddle.tile(x, paddle.shape(y))",
    ),
]

test_tensor = case_tests(CASES)
