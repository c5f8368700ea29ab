"""Constants, lists and shape manipulation: full, combine/split, reshape, concat, split...

Paddle hands many settings over as operands made by ``pd_op.full`` / ``full_int_array``
(reshape shapes, squeeze axes, concat and split axes). The consumers read those at export
time through ``ctx.const``, so the constant nodes emitted here are usually left unread and
dropped by the converter.

List values: ``builtin.combine`` lists are resolved by their consumers. Ops that produce
a list (``pd_op.split``, ``split_with_num``) publish its elements with ``publish_list``,
and ``builtin.split`` aliases its results to them.
"""

import numpy as np
from onnx import numpy_helper

from harness.export.builder import onnx_dtype
from harness.export.registry import Unsupported, register

# ONNX Slice reads an end this large as "to the end of the axis".
_TO_END = np.iinfo(np.int64).max


# --- helpers ---------------------------------------------------------------------------------


def _list_key(name: str, k: int) -> str:
    return f"{name}[{k}]"


def publish_list(ctx, name: str, parts: list[str]) -> None:
    """Record ONNX names ``parts`` as the elements of list value ``name``.

    For mappings of ops whose result is a vector (``pd_op.split``, ``pd_op.unbind``...):
    the ``builtin.split`` that unpacks it aliases each result to one of these.
    """
    for k, part in enumerate(parts):
        ctx.alias(_list_key(name, k), part)


def _as_int(value, what: str) -> int:
    array = np.asarray(value).reshape(-1)
    if array.size != 1:
        raise Unsupported(f"{what} must hold one value, got {array.tolist()}")
    return int(array[0])


def _axis(ctx, op, key, rank: int, what: str = "axis") -> int:
    axis = _as_int(ctx.require_const(op, key, what), what)
    if not -max(rank, 1) <= axis < max(rank, 1):
        raise Unsupported(f"{what}={axis} is out of range for rank {rank}")
    return axis % max(rank, 1)


def _shape_slice(ctx, x: str, start: int, end: int) -> str:
    """Return ``shape(x)[start:end]`` as an int64 tensor."""
    shape = ctx.node("Shape", [x])
    return ctx.node("Slice", [shape, ctx.int64s([start]), ctx.int64s([end]), ctx.int64s([0])])


def _axes_node(ctx, op_type: str, inputs: list[str], out: str, axes: list[int]) -> None:
    """Emit Squeeze/Unsqueeze: ``axes`` is an attribute before opset 13, an input since."""
    if ctx.opset >= 13:
        ctx.node(op_type, inputs + [ctx.int64s(axes, "axes")], [out])
    else:
        ctx.node(op_type, inputs, [out], axes=list(axes))


# --- constants -------------------------------------------------------------------------------


def _constant(ctx, op):
    out = ctx.out(op)
    try:
        array = ctx.graph.constant(out)
    except TypeError as e:  # numpy has no bfloat16
        raise Unsupported(
            f"a constant of dtype {ctx.out_value(op).dtype} is not supported"
        ) from e
    # Named as the op's result, so a consumer that reads it at run time finds it; the
    # converter drops it when every consumer took the value at export time instead.
    ctx.node("Constant", [], [out], value=numpy_helper.from_array(array, out))


@register("pd_op.full")
def full(ctx, op):
    """Emit the constant. ``value`` arrives as a float even for int dtypes; ``shape`` and
    ``dtype`` are honoured (large int64 values lose precision in that float)."""
    _constant(ctx, op)


@register("pd_op.full_int_array")
def full_int_array(ctx, op):
    """Emit the int array ``value`` (with its ``dtype``) as a constant."""
    _constant(ctx, op)


@register("pd_op.assign_value_")
def assign_value_(ctx, op):
    """Emit ``values`` reshaped to ``shape`` as a constant; the placeholder operand (a
    full of the same shape) is not read."""
    _constant(ctx, op)


# --- lists -----------------------------------------------------------------------------------


@register("builtin.combine")
def combine(ctx, op):
    """Emit nothing: the consumers of a list read its elements with ``ctx.input_list``."""


@register("builtin.split")
def builtin_split(ctx, op):
    """Alias each result to an element of the list operand (combined or published)."""
    name = op.input(0)
    if name in ctx.graph.lists:
        parts = ctx.input_list(op, 0)
    else:
        parts = [ctx.resolve(_list_key(name, k)) for k in range(len(op.outputs))]
        if any(p == _list_key(name, k) for k, p in enumerate(parts)):
            raise Unsupported("the list it unpacks was not exported by its producer")
    if len(parts) != len(op.outputs):
        raise Unsupported(f"unpacks {len(op.outputs)} values from a list of {len(parts)}")
    for out, part in zip(op.outputs, parts):
        ctx.alias(out, part)


# --- reshaping -------------------------------------------------------------------------------


@register("pd_op.reshape")
def reshape(ctx, op):
    """Reshape to the ``shape`` operand: a constant list (0 copies the input dim, -1 is
    inferred, as in ONNX with allowzero=0) or an integer tensor computed at run time."""
    shape = _int64_operand(ctx, op, 1, "reshape shape")
    ctx.node("Reshape", [ctx.input(op, 0), shape], [ctx.out(op)])


@register("pd_op.flatten")
def flatten(ctx, op):
    """Collapse dims ``start_axis``..``stop_axis`` (either may be negative).

    ONNX Flatten always makes a 2-D result, so it is used only where that is exactly
    Paddle's result; elsewhere a Reshape to (kept dims, -1, trailing dims).
    """
    x, out, rank = ctx.input(op, 0), ctx.out(op), ctx.rank(op, 0)
    start = op.attrs["start_axis"] % max(rank, 1)
    stop = op.attrs["stop_axis"] % max(rank, 1)
    if rank == 0:  # a 0-d tensor flattens to shape [1]
        ctx.node("Reshape", [x, ctx.int64s([1])], [out])
    elif start == stop:
        ctx.alias(out, x)
    elif rank - (stop - start) == 2 and (start, stop) in ((1, rank - 1), (0, rank - 2)):
        ctx.node("Flatten", [x], [out], axis=1 if start == 1 else rank - 1)
    else:
        ctx.node("Reshape", [x, _flat_shape(ctx, op, x, start, stop)], [out])


def _flat_shape(ctx, op, x: str, start: int, stop: int) -> str:
    # Leading dims keep their index, so 0 copies them; trailing dims moved, so they are
    # given literally, or read from the input's shape when some are dynamic.
    head = [0] * start + [-1]
    tail = ctx.in_value(op, 0).shape[stop + 1 :]
    if all(d is not None for d in tail):
        return ctx.int64s(head + list(tail), "shape")
    rank = ctx.rank(op, 0)
    return ctx.node("Concat", [ctx.int64s(head), _shape_slice(ctx, x, stop + 1, rank)], axis=0)


@register("pd_op.transpose")
def transpose(ctx, op):
    """Permute by ``perm`` (negative entries count from the end)."""
    x, rank = ctx.input(op, 0), ctx.rank(op, 0)
    perm = [p % rank for p in op.attrs["perm"]] if rank else []
    if perm == list(range(rank)):
        ctx.alias(ctx.out(op), x)
        return
    ctx.node("Transpose", [x], [ctx.out(op)], perm=perm)


@register("pd_op.squeeze")
def squeeze(ctx, op):
    """Drop the size-1 dims named by the ``axis`` operand (a constant; empty = all of them).

    Paddle silently keeps a named dim that is not 1, where ONNX Squeeze would fail, so the
    axes are filtered by the static shape; a named dim that is dynamic is rejected (whether
    it goes depends on its size at run time, and so does the result's rank).
    """
    x, out = ctx.input(op, 0), ctx.out(op)
    shape = ctx.in_value(op, 0).shape
    axes = [int(a) for a in np.asarray(ctx.require_const(op, 1, "squeeze axes")).reshape(-1)]
    if not axes and None in shape:
        # Squeeze-all with dynamic dims: ONNX decides at run time, as eager Paddle does.
        ctx.node("Squeeze", [x], [out])
        return
    rank = len(shape)
    if rank == 0:  # nothing to squeeze
        ctx.alias(out, x)
        return
    axes = sorted({a % rank for a in axes}) if axes else list(range(rank))
    if any(shape[a] is None for a in axes):
        raise Unsupported(_SQUEEZE_DYNAMIC)
    axes = [a for a in axes if shape[a] == 1]
    if not axes:
        ctx.alias(out, x)
        return
    _axes_node(ctx, "Squeeze", [x], out, axes)


_SQUEEZE_DYNAMIC = (
    "squeeze of a dynamic dim: Paddle keeps it unless it is 1 at run time, so the rank "
    "of the result depends on the input"
)


@register("pd_op.unsqueeze")
def unsqueeze(ctx, op):
    """Insert size-1 dims at the ``axis`` operand (a constant list, negatives allowed).

    Paddle inserts the axes one after another, each counted in the rank reached so far,
    and shifts ones inserted earlier; the final positions are worked out here because
    ONNX reads all axes against the output rank at once.
    """
    x, out = ctx.input(op, 0), ctx.out(op)
    axes = np.asarray(ctx.require_const(op, 1, "unsqueeze axes")).reshape(-1)
    rank = ctx.rank(op, 0)
    inserted: list[int] = []
    for axis in (int(a) for a in axes):
        pos = axis + rank + len(inserted) + 1 if axis < 0 else axis
        if not 0 <= pos <= rank + len(inserted):
            raise Unsupported(f"unsqueeze axis {axis} is out of range for rank {rank}")
        inserted = [p + 1 if p >= pos else p for p in inserted] + [pos]
    if not inserted:
        ctx.alias(out, x)
        return
    _axes_node(ctx, "Unsqueeze", [x], out, sorted(inserted))


# --- joining and splitting -------------------------------------------------------------------


@register("pd_op.concat")
def concat(ctx, op):
    """Concatenate the combined list along the constant ``axis`` (negative allowed)."""
    parts = ctx.input_list(op, 0)
    axis = _axis(ctx, op, 1, ctx.out_value(op).rank, "concat axis")
    ctx.node("Concat", parts, [ctx.out(op)], axis=axis)


def _split_sections(ctx, op) -> tuple[int, list[int]]:
    rank = ctx.rank(op, 0)
    axis = _axis(ctx, op, 2, rank, "split axis")
    sections = [int(s) for s in np.asarray(ctx.require_const(op, 1, "split sections"))]
    dim = ctx.in_value(op, 0).shape[axis]
    if sections.count(-1) > 1:
        raise Unsupported(f"split sections {sections} hold more than one -1")
    if -1 in sections and dim is not None:
        sections[sections.index(-1)] = dim - sum(s for s in sections if s != -1)
    return axis, sections


def _from_end(n: int) -> int:
    return -n if n else _TO_END


def _split_by_slices(ctx, x: str, axis: int, sections: list[int]) -> list[str]:
    # A -1 section on a dynamic dim: pieces before it are placed from the start of the
    # axis and pieces after it from the end (negative indices), so no shape arithmetic.
    j = sections.index(-1)
    bounds = [sum(sections[:k]) for k in range(j + 1)]
    bounds += [_from_end(sum(sections[k:])) for k in range(j + 1, len(sections) + 1)]
    starts, ends = bounds[:-1], bounds[1:]
    axes = ctx.int64s([axis])
    return [
        ctx.node("Slice", [x, ctx.int64s([s]), ctx.int64s([e]), axes])
        for s, e in zip(starts, ends)
    ]


def _split(ctx, op, split_input: bool):
    x = ctx.input(op, 0)
    axis, sections = _split_sections(ctx, op)
    if -1 in sections:
        parts = _split_by_slices(ctx, x, axis, sections)
    elif split_input:
        parts = ctx.node("Split", [x, ctx.int64s(sections, "split")], len(sections), axis=axis)
    else:
        parts = ctx.node("Split", [x], len(sections), axis=axis, split=sections)
    publish_list(ctx, ctx.out(op), parts if isinstance(parts, list) else [parts])


@register("pd_op.split")
def split(ctx, op):
    """Split into the constant ``sections`` (one may be -1) along the constant ``axis``."""
    _split(ctx, op, split_input=False)


@register("pd_op.split", since=13)
def split_13(ctx, op):
    _split(ctx, op, split_input=True)


@register("pd_op.split_with_num")
def split_with_num(ctx, op):
    """Split into ``num`` equal pieces along the constant ``axis`` (dynamic dims allowed)."""
    x, num = ctx.input(op, 0), op.attrs["num"]
    axis = _axis(ctx, op, 1, ctx.rank(op, 0), "split axis")
    # Before opset 18 the output count alone asks for equal pieces; 18 wants num_outputs.
    extra = {"num_outputs": num} if ctx.opset >= 18 else {}
    parts = ctx.node("Split", [x], num, axis=axis, **extra)
    publish_list(ctx, ctx.out(op), parts if isinstance(parts, list) else [parts])


# --- shapes, slices and broadcasting ---------------------------------------------------------


def _int64_operand(ctx, op, key, what: str) -> str:
    """Return operand ``key`` as an int64 tensor: the constant, or the run-time value."""
    value = ctx.const(op, key)
    if value is not None:
        return ctx.int64s(np.asarray(value).reshape(-1), what)
    dtype = ctx.dtype(op, key)
    if dtype not in ("int32", "int64"):
        raise Unsupported(f"{what} of dtype {dtype} is not supported")
    name = ctx.input(op, key)
    return name if dtype == "int64" else ctx.cast(name, "int64")


@register("pd_op.shape64")
def shape64(ctx, op):
    """Emit the int64 shape of the input."""
    ctx.node("Shape", [ctx.input(op, 0)], [ctx.out(op)])


@register("pd_op.shape")
def shape(ctx, op):
    """Emit the shape of the input in the result's dtype (int32 for this op)."""
    dtype = ctx.out_value(op).dtype
    if dtype == "int64":
        ctx.node("Shape", [ctx.input(op, 0)], [ctx.out(op)])
        return
    ctx.node(
        "Cast", [ctx.node("Shape", [ctx.input(op, 0)])], [ctx.out(op)], to=onnx_dtype(dtype)
    )


@register("pd_op.slice")
def slice_(ctx, op):
    """Slice ``axes`` from ``starts`` to ``ends`` (constants or run-time int tensors);
    out-of-range and negative bounds clamp as in ONNX. ``decrease_axis`` dims are then
    squeezed away (they have size 1 by then); ``infer_flags`` only guide Paddle."""
    x, out = ctx.input(op, 0), ctx.out(op)
    rank = ctx.rank(op, 0)
    axes = [a % rank for a in op.attrs["axes"]]
    starts = _int64_operand(ctx, op, 1, "slice starts")
    ends = _int64_operand(ctx, op, 2, "slice ends")
    decrease = sorted({a % rank for a in op.attrs.get("decrease_axis", [])})
    sliced = ctx.node("Slice", [x, starts, ends, ctx.int64s(axes, "axes")])
    if decrease:
        _axes_node(ctx, "Squeeze", [sliced], out, decrease)
    else:
        ctx.alias(out, sliced)


@register("pd_op.stack")
def stack(ctx, op):
    """Stack the combined list along the new axis ``axis`` (negative counts from the end
    of the result)."""
    parts = ctx.input_list(op, 0)
    axis = op.attrs["axis"] % ctx.out_value(op).rank
    if len(parts) == 1:
        _axes_node(ctx, "Unsqueeze", parts, ctx.out(op), [axis])
        return
    columns = []
    for part in parts:
        column = ctx.builder.fresh(f"{part}_unsqueezed")
        _axes_node(ctx, "Unsqueeze", [part], column, [axis])
        columns.append(column)
    ctx.node("Concat", columns, [ctx.out(op)], axis=axis)


@register("pd_op.full_with_tensor")
def full_with_tensor(ctx, op):
    """Fill a tensor of the run-time ``shape`` operand with ``value`` (cast to ``dtype``)."""
    _fill(ctx, op, 0, _int64_operand(ctx, op, 1, "fill shape"))


@register("pd_op.full_like")
def full_like(ctx, op):
    """Fill a tensor shaped like ``x`` with ``value`` (cast to ``dtype``, float to int
    truncating as Paddle does)."""
    _fill(ctx, op, 1, ctx.node("Shape", [ctx.input(op, 0)]))


def _fill(ctx, op, value_key, shape: str) -> None:
    dtype = ctx.out_value(op).dtype
    value = ctx.const(op, value_key)
    if value is not None:
        fill = numpy_helper.from_array(np.asarray(value, dtype=dtype).reshape(1), "value")
        ctx.node("ConstantOfShape", [shape], [ctx.out(op)], value=fill)
        return
    scalar = ctx.node("Reshape", [ctx.input(op, value_key), ctx.int64s([], "scalar")])
    if ctx.dtype(op, value_key) != dtype:
        scalar = ctx.cast(scalar, dtype)
    ctx.node("Expand", [scalar, shape], [ctx.out(op)])


@register("pd_op.gather")
def gather(ctx, op):
    """Gather ``index`` (int tensor, 0-d or 1-D, negatives allowed) along the constant
    ``axis``."""
    x, index = ctx.input(op, 0), ctx.input(op, 1)
    rank = ctx.rank(op, 0)
    if ctx.rank(op, 1) > 1:
        raise Unsupported("gather with an index of rank above 1 is not supported")
    axis = _axis(ctx, op, 2, rank, "gather axis") if op.input(2) else 0
    ctx.node("Gather", [x, index], [ctx.out(op)], axis=axis)


@register("pd_op.cast")
def cast(ctx, op):
    """Convert to ``dtype``: float to int truncates toward zero, nonzero becomes True."""
    x, dtype = ctx.input(op, 0), op.attrs["dtype"]
    if ctx.dtype(op, 0) == dtype:
        ctx.alias(ctx.out(op), x)
        return
    ctx.node("Cast", [x], [ctx.out(op)], to=onnx_dtype(dtype))


@register("pd_op.expand")
def expand(ctx, op):
    """Broadcast to the ``shape`` operand (a constant or a run-time int tensor); its -1
    entries keep the input's dim, which ONNX Expand spells 1."""
    x, out = ctx.input(op, 0), ctx.out(op)
    shape = ctx.const(op, 1)
    if shape is not None:
        shape = np.where(np.asarray(shape).reshape(-1) == -1, 1, shape)
        ctx.node("Expand", [x, ctx.int64s(shape, "shape")], [out])
        return
    shape = _int64_operand(ctx, op, 1, "expand shape")
    minus_one = ctx.node("Equal", [shape, ctx.int64s([-1])])
    shape = ctx.node("Where", [minus_one, ctx.int64s([1]), shape])
    ctx.node("Expand", [x, shape], [out])


@register("pd_op.tile")
def tile(ctx, op):
    """Repeat by ``repeat_times`` (constant or run-time): a shorter list is padded with
    leading 1s, a longer one first gives the input leading size-1 dims, as Paddle does."""
    x, out, rank = ctx.input(op, 0), ctx.out(op), ctx.rank(op, 0)
    length = (ctx.in_value(op, 1).shape or (None,))[0]
    if length is None:
        raise Unsupported("tile repeat_times of unknown length is not supported")
    constant = ctx.const(op, 1)
    if constant is not None:
        pad = [1] * (rank - length)
        repeats = ctx.int64s(pad + [int(r) for r in np.reshape(constant, -1)], "repeats")
    else:
        repeats = _int64_operand(ctx, op, 1, "tile repeat_times")
        if length < rank:
            repeats = ctx.node("Concat", [ctx.int64s([1] * (rank - length)), repeats], axis=0)
    if length > rank:
        lifted = ctx.builder.fresh(f"{x}_lifted")
        _axes_node(ctx, "Unsqueeze", [x], lifted, list(range(length - rank)))
        x = lifted
    ctx.node("Tile", [x, repeats], [out])
