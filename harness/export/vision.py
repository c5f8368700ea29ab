"""Vision ops: resizing, padding, pixel and channel shuffles, flip, roll, sampling grids.

Resizing follows Paddle 3.3's CPU kernels, measured against ONNX Runtime on every size
pair up to 6 -> 8, a grid of scales and random 3-D cases:

- linear modes: ``align_corners`` is ONNX's 'align_corners' and ``align_mode`` 1 is
  'asymmetric'. ``align_mode`` 0 differs by rank at an output dim of size 1: bilinear
  reads source pixel 0 there ('pytorch_half_pixel'), linear and trilinear the centre
  ('half_pixel'); elsewhere the two modes agree.
- bicubic: A = -0.75 with edge taps clamped (``exclude_outside`` 0) and 'half_pixel',
  except that for an output dim of size 1 Paddle samples at -0.5, which no ONNX mode does.
- nearest: Paddle truncates float32 ``ratio * index``; ONNX's asymmetric/floor divides
  by the scale instead and lands one pixel off at some sizes (2 -> 82 is the first), so
  nearest is a Gather of indices computed the way Paddle computes them.
- Paddle copies the input when every output dim equals its input dim, even where a
  scale in (1, 2) would move the sampling points; the export does the same.
"""

import numpy as np
from onnx import TensorProto

from harness.export.registry import Unsupported, register

_TO_END = np.iinfo(np.int64).max
_FROM_END = np.iinfo(np.int64).min

# --- shape helpers ---------------------------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer))


class _Dims:
    """The dims of one ONNX tensor: ints where static, 1-element int64 tensors otherwise."""

    def __init__(self, ctx, x: str, shape):
        self.ctx, self.x, self.shape = ctx, x, tuple(shape)
        self._shape_tensor = None
        self._read: dict[int, str] = {}

    def __getitem__(self, i: int):
        if self.shape[i] is not None:
            return int(self.shape[i])
        if i not in self._read:
            if self._shape_tensor is None:
                self._shape_tensor = self.ctx.node("Shape", [self.x])
            index = self.ctx.int64s([i])
            self._read[i] = self.ctx.node("Gather", [self._shape_tensor, index], axis=0)
        return self._read[i]


def _vector(ctx, parts) -> str:
    """Concatenate ints and 1-element int64 tensors into one int64 vector."""
    if all(_is_int(p) for p in parts):
        return ctx.int64s([int(p) for p in parts])
    tensors = [ctx.int64s([int(p)]) if _is_int(p) else p for p in parts]
    return ctx.node("Concat", tensors, axis=0)


def _as_float(ctx, dim) -> str:
    if _is_int(dim):
        return ctx.const_tensor(np.array([dim], dtype=np.float32))
    return ctx.node("Cast", [dim], to=TensorProto.FLOAT)


def _layout(op, key: str = "data_format") -> bool:
    """Return True for channels-last; Paddle spells the layouts of every rank NCHW/NHWC."""
    fmt = op.attrs.get(key, "NCHW")
    if fmt in ("NCHW", "NCDHW", "NCW", "AnyLayout"):
        return False
    if fmt in ("NHWC", "NDHWC", "NWC"):
        return True
    raise Unsupported(f"{key}={fmt!r} is not supported; expected channels first or last")


def _perms(rank: int) -> tuple[list[int], list[int]]:
    """Return the permutations channels-last -> channels-first and back."""
    return [0, rank - 1, *range(1, rank - 1)], [0, *range(2, rank), 1]


def _range(ctx, count) -> str:
    """Return 0 .. count-1 as int64; ``count`` is an int or a 1-element tensor."""
    if _is_int(count):
        return ctx.int64s(np.arange(count))
    limit = ctx.node("Reshape", [count, ctx.int64s([])])
    zero, one = (ctx.const_tensor(np.array(v, dtype=np.int64)) for v in (0, 1))
    return ctx.node("Range", [zero, limit, one])


# --- resizing --------------------------------------------------------------------------------


def _const_through_cast(ctx, name):
    """Return the constant behind ``name``, looking through one pd_op.cast."""
    value = ctx.graph.constant(name)
    producer = ctx.graph.producer(name)
    if value is None and producer is not None and producer.name == "pd_op.cast":
        value = ctx.graph.constant(producer.inputs[0])
    return value


def _size_part(ctx, name: str):
    """Return one element of ``size_tensor``: an int, or a 1-element int64 tensor."""
    value = _const_through_cast(ctx, name)
    if value is not None:
        return int(np.asarray(value).reshape(-1)[0])
    part = ctx.node("Reshape", [ctx.resolve(name), ctx.int64s([1])])
    return part if ctx.value(name).dtype == "int64" else ctx.cast(part, "int64")


def _scale_list(ctx, op, n: int):
    """Return the scales Paddle's kernel uses (float32 values), or None."""
    if op.input("scale_tensor") is not None:
        value = ctx.const(op, "scale_tensor")
        if value is None:
            raise Unsupported("a scale tensor computed at run time is not supported")
        values = [float(v) for v in np.asarray(value, dtype=np.float32).reshape(-1)]
        return values[:n] if len(values) > 1 else values[:1] * n
    values = [float(np.float32(v)) for v in op.attrs.get("scale") or []]
    # The kernel reads the attribute only when it has a value per dim (one for 1-D).
    if n == 1 and values:
        return values[:1]
    if len(values) > 1:
        if len(values) < n:
            raise Unsupported(f"scale={values} has fewer values than the {n} resized dims")
        return values[:n]
    return None


def _interp_plan(ctx, op, n: int):
    """Return ("sizes", [int | tensor] * n) or ("scales", [float] * n) as Paddle picks.

    Paddle's order: ``size_tensor``; else a scale (``scale_tensor``, then ``scale``),
    overridden in size by ``out_size``; else ``out_d``/``out_h``/``out_w``.
    """
    listed = op.input("size_tensor")
    if listed is not None:
        parts = ctx.graph.lists.get(listed)
        if parts is None or len(parts) != n:
            raise Unsupported(f"size_tensor must list {n} sizes")
        return "sizes", [_size_part(ctx, p) for p in parts]
    scales = _scale_list(ctx, op, n)
    if op.input("out_size") is not None:
        if scales is not None:
            raise Unsupported(
                "a scale together with out_size: Paddle resizes to out_size with the "
                "scale's ratio, which ONNX Resize cannot express"
            )
        value = _const_through_cast(ctx, op.input("out_size"))
        if value is not None:
            return "sizes", [int(v) for v in np.asarray(value).reshape(-1)[:n]]
        sizes = ctx.cast(ctx.input(op, "out_size"), "int64")
        return "sizes", [
            ctx.node("Gather", [sizes, ctx.int64s([i])], axis=0) for i in range(n)
        ]
    if scales is not None:
        return "scales", scales
    sizes = [int(op.attrs.get(k, -1)) for k in ("out_d", "out_h", "out_w")][3 - n :]
    if any(s <= 0 for s in sizes):
        raise Unsupported(f"no output size: out_d/out_h/out_w={sizes} and no scale")
    return "sizes", sizes


def _scaled(size: int, scale: float) -> int:
    # Paddle's int(in * scale), a float32 product.
    return int(np.float32(size) * np.float32(scale))


def _copies(spatial, scales):
    """Whether Paddle copies the input under ``scales``: True, False, or None (run time).

    An output dim equals its input dim for every size when the scale is 1, for no size
    when it is below 1 or at least 2, and for some sizes in between.
    """
    known = True
    for size, scale in zip(spatial, scales):
        if size is not None:
            if _scaled(size, scale) != size:
                return False
        elif not 1 <= scale < 2:
            return False
        elif scale != 1:
            known = False
    return True if known else None


def _copy_condition(ctx, dims: _Dims, axes, scales) -> str:
    """Return a bool [1] tensor: every output dim equals its input dim at run time."""
    cond = None
    for axis, scale in zip(axes, scales):
        if scale == 1:
            continue
        size = dims[axis]
        scaled = ctx.node("Mul", [_as_float(ctx, size), ctx.const_tensor(np.float32(scale))])
        same = ctx.node("Equal", [ctx.cast(scaled, "int64"), _vector(ctx, [size])])
        cond = same if cond is None else ctx.node("And", [cond, same])
    return cond


def _out_dims(spatial, plan) -> list:
    """Return the static output sizes (None where only known at run time)."""
    kind, values = plan
    if kind == "sizes":
        return [v if _is_int(v) else None for v in values]
    return [None if d is None else _scaled(d, s) for d, s in zip(spatial, values)]


def _check_bicubic(spatial, plan) -> None:
    """Raise Unsupported where an output dim of size 1 samples a larger input dim."""
    kind, values = plan
    reason = (
        "bicubic_interp without align_corners to an output dim of size 1: Paddle "
        "samples at -0.5 there, which no ONNX coordinate mode gives"
    )
    for size, out, value in zip(spatial, _out_dims(spatial, plan), values):
        if out == 1 and size != 1:
            raise Unsupported(reason)
        # A scale of at least 1 never shrinks a dim above 1 to 1.
        if out is None and (kind == "sizes" or value < 1):
            raise Unsupported(reason + " (the output size is only known at run time)")


def _resize(ctx, op, plan, onnx_mode: str, optional: bool, **attrs) -> None:
    """Emit Resize on the channels-first input; ``optional`` leaves roi/scales empty."""
    x, shape = ctx.input(op, 0), ctx.in_value(op, 0).shape
    rank = len(shape)
    last = _layout(op)
    to_first, to_last = _perms(rank)
    if last:
        x = ctx.node("Transpose", [x], perm=to_first)
        shape = tuple(shape[i] for i in to_first)
    dims = _Dims(ctx, x, shape)
    empty = None if optional else ctx.const_tensor(np.zeros(0, dtype=np.float32))
    kind, values = plan
    if kind == "sizes":
        inputs = [x, empty, empty, _vector(ctx, [dims[0], dims[1], *values])]
    else:
        copies = _copies(shape[2:], values)
        if copies:
            values = [1.0] * len(values)
        scales = ctx.const_tensor(np.array([1.0, 1.0, *values], dtype=np.float32))
        if copies is None:
            cond = _copy_condition(ctx, dims, range(2, rank), values)
            ones = ctx.const_tensor(np.ones(rank, dtype=np.float32))
            scales = ctx.node("Where", [cond, ones, scales])
        inputs = [x, empty, scales]
    out = [ctx.out(op)] if not last else 1
    y = ctx.node("Resize", inputs, out, mode=onnx_mode, **attrs)
    if last:
        ctx.node("Transpose", [y], [ctx.out(op)], perm=to_last)


def _nearest_indices(size: int, out: int, scale, align_corners: bool) -> np.ndarray:
    """Return Paddle's source indices along one dim, with its float32 arithmetic."""
    ratio = np.float32(0)
    if out > 1:
        if align_corners:
            ratio = np.float32(size - 1) / np.float32(out - 1)
        elif scale is not None:
            ratio = np.float32(1.0 / scale)
        else:
            ratio = np.float32(size) / np.float32(out)
    product = np.arange(out, dtype=np.float32) * ratio
    if align_corners:
        # ratio * k + 0.5 is a float32 product widened to double for the sum.
        return (product.astype(np.float64) + 0.5).astype(np.int64)
    return product.astype(np.int64)


def _nearest_run_time(ctx, size, out, scale, align_corners: bool, copy_cond) -> str:
    """Build the index of one dim at run time, step by step as the kernel does."""
    size_f = _as_float(ctx, size)
    if out is None:
        out = ctx.cast(ctx.node("Mul", [size_f, ctx.const_tensor(np.float32(scale))]), "int64")
    out_f = _as_float(ctx, out)
    one = ctx.const_tensor(np.array([1.0], dtype=np.float32))
    if align_corners:
        # An output of size 1 reads index 0 whatever the ratio; Max avoids a 0 / 0.
        steps = ctx.node("Max", [ctx.node("Sub", [out_f, one]), one])
        ratio = ctx.node("Div", [ctx.node("Sub", [size_f, one]), steps])
    elif scale is not None:
        ratio = ctx.const_tensor(np.array([1.0 / scale], dtype=np.float32))
    else:
        ratio = ctx.node("Div", [size_f, out_f])
    if copy_cond is not None:
        ratio = ctx.node("Where", [copy_cond, one, ratio])
    k = ctx.node("Cast", [_range(ctx, out)], to=TensorProto.FLOAT)
    product = ctx.node("Mul", [k, ratio])
    if align_corners:
        wide = ctx.node("Cast", [product], to=TensorProto.DOUBLE)
        product = ctx.node("Add", [wide, ctx.const_tensor(np.array([0.5]))])
    return ctx.cast(product, "int64")


def _nearest(ctx, op, plan) -> None:
    """Gather along each resized dim at the indices Paddle's kernel reads."""
    x, shape = ctx.input(op, 0), ctx.in_value(op, 0).shape
    rank = len(shape)
    axes = list(range(1, rank - 1)) if _layout(op) else list(range(2, rank))
    spatial = [shape[a] for a in axes]
    align_corners = bool(op.attrs.get("align_corners"))
    kind, values = plan
    scales = values if kind == "scales" else [None] * len(axes)
    copies = False if kind == "sizes" or align_corners else _copies(spatial, values)
    outs = values if kind == "sizes" else _out_dims(spatial, plan)
    if copies:
        ctx.alias(ctx.out(op), x)
        return
    dims = _Dims(ctx, x, shape)
    cond = _copy_condition(ctx, dims, axes, values) if copies is None else None
    y = x
    for axis, size, out, scale in zip(axes, spatial, outs, scales):
        if size is not None and _is_int(out) and cond is None:
            index = ctx.int64s(_nearest_indices(size, out, scale, align_corners))
        else:
            index = _nearest_run_time(ctx, dims[axis], out, scale, align_corners, cond)
        y = ctx.node("Gather", [y, index], axis=axis)
    ctx.alias(ctx.out(op), y)


_RESIZE_DTYPES = ("float32", "float16")
# What align_mode 0 is, by op (see the module docstring).
_HALF_PIXEL = {
    "bilinear": "pytorch_half_pixel",
    "linear": "half_pixel",
    "trilinear": "half_pixel",
}
_SHRINK_LAST = (
    "channels-last bicubic_interp that may shrink a dim: ONNX Runtime's layout "
    "optimizer folds the transposes into a channels-last cubic Resize, which its "
    "kernel refuses below scale 1"
)


def _never_shrinks(spatial, plan) -> bool:
    """Whether no output dim can be smaller than its input dim."""
    kind, values = plan
    if kind == "scales":
        return all(v >= 1 for v in values)
    return all(_is_int(o) and d is not None and o >= d for d, o in zip(spatial, values))


def _interp(ctx, op, optional: bool) -> None:
    method = op.attrs.get("interp_method")
    rank = ctx.rank(op, 0)
    if not 3 <= rank <= 5:
        raise Unsupported(f"expected a 3-D to 5-D input, got rank {rank}")
    _layout(op)
    plan = _interp_plan(ctx, op, rank - 2)
    if method == "nearest":
        _nearest(ctx, op, plan)
        return
    dtype = ctx.dtype(op, 0)
    if dtype not in _RESIZE_DTYPES:
        raise Unsupported(_DTYPE_REASONS.get(dtype, f"{method} resizing of {dtype}"))
    align_corners = bool(op.attrs.get("align_corners"))
    if method in _HALF_PIXEL:
        if align_corners:
            mode = "align_corners"
        elif int(op.attrs.get("align_mode", 0)) == 1:
            mode = "asymmetric"
        else:
            mode = _HALF_PIXEL[method]
        _resize(ctx, op, plan, "linear", optional, coordinate_transformation_mode=mode)
    elif method == "bicubic":
        shape = ctx.in_value(op, 0).shape
        last = _layout(op)
        spatial = shape[1:-1] if last else shape[2:]
        if not align_corners:
            _check_bicubic(spatial, plan)
        if last and not _never_shrinks(spatial, plan):
            raise Unsupported(_SHRINK_LAST)
        _resize(
            ctx,
            op,
            plan,
            "cubic",
            optional,
            coordinate_transformation_mode="align_corners" if align_corners else "half_pixel",
            cubic_coeff_a=-0.75,
            exclude_outside=0,
        )
    else:
        raise Unsupported(f"interp_method={method!r} is not supported")


_DTYPE_REASONS = {
    "float64": "float64 resizing: ONNX Runtime has no float64 Resize kernel",
    "uint8": "uint8 linear resizing: Paddle truncates the interpolated value, ONNX "
    "Runtime rounds it",
}

_INTERP_OPS = (
    "pd_op.linear_interp",
    "pd_op.bilinear_interp",
    "pd_op.trilinear_interp",
    "pd_op.bicubic_interp",
    "pd_op.nearest_interp",
)


def interp(ctx, op):
    """Resize with Resize (linear, cubic) or Gather (nearest); roi/scales are tensors.

    Honours data_format (channels first or last), out_d/out_h/out_w, scale, out_size,
    size_tensor (constant or run-time) and a constant scale_tensor, interp_method,
    align_corners and align_mode. Rejects a run-time scale_tensor, a scale together with
    out_size, bicubic to an output dim of 1 without align_corners, channels-last bicubic
    that may shrink a dim, and float64 and uint8 in the linear and cubic modes.
    """
    _interp(ctx, op, optional=False)


def interp_13(ctx, op):
    """As the opset 11 variant; Resize's roi and scales may be left out from opset 13."""
    _interp(ctx, op, optional=True)


for _name in _INTERP_OPS:
    register(_name)(interp)
    register(_name, since=13)(interp_13)


# --- padding ---------------------------------------------------------------------------------

_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


def _pad_value(ctx, value: float, dtype: str) -> str:
    # Paddle converts pad_value with static_cast, which truncates toward zero for ints.
    return ctx.const_tensor(np.array(value).astype(dtype))


def _pad3d_pads(ctx, op, last: bool):
    """Return ONNX pads for Paddle's [left, right, top, bottom, front, back] (W, H, D)."""
    value = ctx.const(op, "paddings")
    order = [4, 2, 0, 5, 3, 1]  # D, H, W begins, then ends
    if value is not None:
        p = [int(v) for v in np.asarray(value).reshape(-1)]
        if len(p) != 6:
            raise Unsupported(f"paddings={p} has {len(p)} values; expected 6")
        d_b, h_b, w_b, d_a, h_a, w_a = (p[i] for i in order)
        if last:
            return [0, d_b, h_b, w_b, 0, 0, d_a, h_a, w_a, 0]
        return [0, 0, d_b, h_b, w_b, 0, 0, d_a, h_a, w_a]
    # Run-time paddings: append a zero and gather every ONNX pad from that vector.
    paddings = ctx.cast(ctx.input(op, "paddings"), "int64")
    padded = ctx.node("Concat", [paddings, ctx.int64s([0])], axis=0)
    zero = 6
    begins, ends = order[:3], order[3:]
    if last:
        index = [zero, *begins, zero, zero, *ends, zero]
    else:
        index = [zero, zero, *begins, zero, zero, *ends]
    return ctx.node("Gather", [padded, ctx.int64s(index)], axis=0)


def _wrap_axis(ctx, x: str, dims: _Dims, axis: int, begin, end) -> str:
    """Pad one axis circularly: out[i] = in[(i - begin) mod size], any begin and end."""
    size = dims[axis]
    if _is_int(size) and _is_int(begin) and _is_int(end):
        index = (np.arange(size + begin + end) - begin) % size
        return ctx.node("Gather", [x, ctx.int64s(index)], axis=axis)
    size, begin, end = (_vector(ctx, [v]) for v in (size, begin, end))
    count = ctx.node("Add", [size, ctx.node("Add", [begin, end])])
    shifted = ctx.node("Sub", [_range(ctx, count), begin])
    # Integer Mod takes the sign of the divisor, so the index is never negative.
    index = ctx.node("Mod", [shifted, size])
    return ctx.node("Gather", [x, index], axis=axis)


def _circular(ctx, op, x: str, pads) -> None:
    rank = ctx.rank(op, 0)
    dims = _Dims(ctx, x, ctx.in_value(op, 0).shape)
    y = x
    for axis in range(rank):
        if _is_int(pads[axis]) and pads[axis] == 0 and pads[axis + rank] == 0:
            continue
        y = _wrap_axis(ctx, y, dims, axis, pads[axis], pads[axis + rank])
    ctx.alias(ctx.out(op), y)


def _pad3d(ctx, op, wrap: bool) -> None:
    x, mode = ctx.input(op, 0), op.attrs.get("mode", "constant")
    if ctx.rank(op, 0) != 5:
        raise Unsupported(f"expected a 5-D input, got rank {ctx.rank(op, 0)}")
    pads = _pad3d_pads(ctx, op, _layout(op))
    static = isinstance(pads, list)
    if mode == "circular":
        # Pad's wrap differs from Paddle on negative pads (a crop); Gather does both.
        if wrap and static and min(pads) >= 0:
            ctx.node("Pad", [x, ctx.int64s(pads)], [ctx.out(op)], mode="wrap")
            return
        if not static:
            pads = [ctx.node("Gather", [pads, ctx.int64s([i])], axis=0) for i in range(10)]
        _circular(ctx, op, x, pads)
        return
    if mode not in _PAD_MODES:
        raise Unsupported(f"mode={mode!r} is not supported")
    inputs = [x, ctx.int64s(pads) if static else pads]
    if mode == "constant":
        inputs.append(_pad_value(ctx, op.attrs.get("pad_value", 0.0), ctx.dtype(op, 0)))
    ctx.node("Pad", inputs, [ctx.out(op)], mode=_PAD_MODES[mode])


@register("pd_op.pad3d")
def pad3d(ctx, op):
    """Pad a 5-D tensor with Pad (constant, reflect, edge) or, for circular, Gather.

    Honours mode constant/reflect/replicate/circular, pad_value, data_format NCDHW/NDHWC
    and paddings as a constant or a run-time tensor, negative pads (crops) included.
    """
    _pad3d(ctx, op, wrap=False)


@register("pd_op.pad3d", since=19)
def pad3d_19(ctx, op):
    """As the opset 11 variant, with Pad's wrap mode for constant, non-negative pads."""
    _pad3d(ctx, op, wrap=True)


@register("pd_op.pad")
def pad(ctx, op):
    """Pad every dim with a constant: ``paddings`` lists (before, after) per dim in order.

    ``pad_value`` is a constant or a run-time scalar tensor.
    """
    x, rank = ctx.input(op, 0), ctx.rank(op, 0)
    p = [int(v) for v in op.attrs["paddings"]]
    if len(p) != 2 * rank:
        raise Unsupported(f"paddings={p} has {len(p)} values; expected {2 * rank}")
    dtype = ctx.dtype(op, 0)
    value = ctx.const(op, "pad_value")
    if value is not None:
        fill = _pad_value(ctx, np.asarray(value).reshape(-1)[0], dtype)
    else:
        fill = ctx.node("Reshape", [ctx.input(op, "pad_value"), ctx.int64s([])])
        fill = fill if ctx.dtype(op, "pad_value") == dtype else ctx.cast(fill, dtype)
    pads = ctx.int64s(p[0::2] + p[1::2])
    ctx.node("Pad", [x, pads, fill], [ctx.out(op)], mode="constant")


# --- pixel and channel shuffles --------------------------------------------------------------


def _to_first(ctx, op, x: str) -> tuple[str, bool]:
    last = _layout(op)
    return (ctx.node("Transpose", [x], perm=_perms(4)[0]) if last else x), last


def _emit_back(ctx, op, y: str, last: bool) -> None:
    if last:
        ctx.node("Transpose", [y], [ctx.out(op)], perm=_perms(4)[1])
    else:
        ctx.alias(ctx.out(op), y)


def _first_shape(ctx, op, last: bool):
    shape = ctx.in_value(op, 0).shape
    if shape is None or len(shape) != 4:
        raise Unsupported(f"expected a 4-D input, got shape {shape}")
    return tuple(shape[i] for i in _perms(4)[0]) if last else shape


@register("pd_op.pixel_shuffle")
def pixel_shuffle(ctx, op):
    """Map to DepthToSpace in CRD order, Paddle's channel order; NHWC goes through
    transposes. Honours upscale_factor and data_format."""
    x, last = _to_first(ctx, op, ctx.input(op, 0))
    _first_shape(ctx, op, last)
    y = ctx.node("DepthToSpace", [x], blocksize=int(op.attrs["upscale_factor"]), mode="CRD")
    _emit_back(ctx, op, y, last)


@register("pd_op.pixel_unshuffle")
def pixel_unshuffle(ctx, op):
    """Compose Reshape-Transpose-Reshape: Paddle puts each input channel's r * r block
    together (c * r * r + i * r + j), while SpaceToDepth orders the block first.
    Honours downscale_factor and data_format."""
    r = int(op.attrs["downscale_factor"])
    x, last = _to_first(ctx, op, ctx.input(op, 0))
    _, _, h, w = _first_shape(ctx, op, last)
    if h is None or w is None:
        # Paddle's shape inference rejects these too, so no traced program has them.
        raise Unsupported("pixel_unshuffle with dynamic spatial dims is not supported")
    h_r, w_r = h // r, w // r
    blocks = ctx.node("Reshape", [x, _vector(ctx, [0, 0, h_r, r, -1, r])])
    moved = ctx.node("Transpose", [blocks], perm=[0, 1, 3, 5, 2, 4])
    y = ctx.node("Reshape", [moved, _vector(ctx, [0, -1, h_r, w_r])])
    _emit_back(ctx, op, y, last)


@register("pd_op.channel_shuffle")
def channel_shuffle(ctx, op):
    """Split channels into ``groups`` rows, transpose and flatten again.
    Honours groups and data_format."""
    g = int(op.attrs["groups"])
    x, last = _to_first(ctx, op, ctx.input(op, 0))
    dims = _Dims(ctx, x, _first_shape(ctx, op, last))
    grouped = ctx.node("Reshape", [x, _vector(ctx, [0, g, -1, dims[2], dims[3]])])
    moved = ctx.node("Transpose", [grouped], perm=[0, 2, 1, 3, 4])
    y = ctx.node("Reshape", [moved, ctx.node("Shape", [x])])
    _emit_back(ctx, op, y, last)


# --- flip and roll ---------------------------------------------------------------------------


@register("pd_op.flip")
def flip(ctx, op):
    """Reverse ``axis`` (negative allowed) with Slice steps of -1."""
    x, rank = ctx.input(op, 0), ctx.rank(op, 0)
    axes = sorted({int(a) % max(rank, 1) for a in op.attrs.get("axis", [])})
    if not axes:
        ctx.alias(ctx.out(op), x)
        return
    n = len(axes)
    inputs = [x, ctx.int64s([-1] * n), ctx.int64s([_FROM_END] * n), ctx.int64s(axes)]
    ctx.node("Slice", inputs + [ctx.int64s([-1] * n)], [ctx.out(op)])


def _roll_axis(ctx, x: str, dims: _Dims, axis: int, shift: int) -> str:
    """Roll ``x`` by ``shift`` along ``axis``: the last ``shift`` items come first."""
    size = dims[axis]
    if _is_int(size):
        s = shift % size if size else 0
        if s == 0:
            return x
        cut = ctx.int64s([size - s])
    else:
        # cut = size - shift mod size; a cut of 0 or size leaves one part empty.
        s = ctx.node("Mod", [ctx.int64s([shift]), size])
        cut = ctx.node("Sub", [size, s])
    axes = ctx.int64s([axis])
    tail = ctx.node("Slice", [x, cut, ctx.int64s([_TO_END]), axes])
    head = ctx.node("Slice", [x, ctx.int64s([0]), cut, axes])
    return ctx.node("Concat", [tail, head], axis=axis)


@register("pd_op.roll")
def roll(ctx, op):
    """Roll with Slice + Concat per axis; shifts must be constants.

    Honours ``axis`` (negative allowed, repeated axes add up) and an empty ``axis``,
    which rolls the flattened tensor.
    """
    x, shape = ctx.input(op, 0), ctx.in_value(op, 0).shape
    shifts = [
        int(s) for s in np.asarray(ctx.require_const(op, "shifts", "shifts")).reshape(-1)
    ]
    axes = [int(a) for a in op.attrs.get("axis", [])]
    if not axes:
        if len(shifts) != 1:
            raise Unsupported(f"shifts={shifts} without axis must hold one value")
        size = int(np.prod(shape)) if None not in shape else None
        flat = ctx.node("Reshape", [x, ctx.int64s([-1])])
        rolled = _roll_axis(ctx, flat, _Dims(ctx, flat, (size,)), 0, shifts[0])
        ctx.node("Reshape", [rolled, ctx.node("Shape", [x])], [ctx.out(op)])
        return
    if len(shifts) != len(axes):
        raise Unsupported(f"shifts={shifts} and axis={axes} differ in length")
    y, rank = x, len(shape)
    dims = _Dims(ctx, x, shape)
    for shift, axis in zip(shifts, axes):
        y = _roll_axis(ctx, y, dims, axis % rank, shift)
    ctx.alias(ctx.out(op), y)


# --- sampling grids and patches --------------------------------------------------------------


def _linspace(count: int, align_corners: bool, dtype: str) -> np.ndarray:
    """Return Paddle's affine_grid coordinates along one dim, in its arithmetic.

    With align_corners and one point the step is 2 / 0, and Paddle's -1 + 0 * inf is NaN;
    the same NaN comes out here.
    """
    t = np.dtype(dtype).type
    start, span = t(-1), t(2)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = span / t(count - 1)
        if not align_corners:
            step = span / t(count)
            start = start * (t(count - 1) / t(count))
        return start + np.arange(count).astype(dtype) * step


@register("pd_op.affine_grid")
def affine_grid(ctx, op):
    """Multiply Paddle's base grid (a constant) by the transposed theta with MatMul.

    Honours align_corners and 4-D or 5-D output shapes; output_shape must be a constant.
    """
    theta, dtype = ctx.input(op, 0), ctx.dtype(op, 0)
    shape = ctx.require_const(op, "output_shape", "affine_grid output_shape")
    spatial = [int(v) for v in np.asarray(shape).reshape(-1)[2:]]
    if len(spatial) not in (2, 3):
        raise Unsupported(f"output_shape={list(shape)} must have 4 or 5 values")
    align_corners = bool(op.attrs.get("align_corners", True))
    # Coordinates run x (W), y (H)[, z (D)], then a column of ones.
    axes = [_linspace(n, align_corners, dtype) for n in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")
    columns = [mesh[i] for i in reversed(range(len(spatial)))]
    base = np.stack([*columns, np.ones_like(mesh[0])], axis=-1).reshape(-1, len(spatial) + 1)
    moved = ctx.node("Transpose", [theta], perm=[0, 2, 1])
    grid = ctx.node("MatMul", [ctx.const_tensor(base.astype(dtype)), moved])
    target = ctx.int64s([-1, *spatial, len(spatial)])
    ctx.node("Reshape", [grid, target], [ctx.out(op)])


def _grid_sample(ctx, op, modes: dict) -> None:
    mode = op.attrs.get("mode", "bilinear")
    padding = op.attrs.get("padding_mode", "zeros")
    if mode not in modes or padding not in ("zeros", "border", "reflection"):
        raise Unsupported(f"mode={mode!r} with padding_mode={padding!r} is not supported")
    if ctx.rank(op, 0) != 4 and ctx.opset < 20:
        raise Unsupported("a 5-D grid_sample needs GridSample-20", needs_opset=20)
    ctx.node(
        "GridSample",
        [ctx.input(op, 0), ctx.input(op, 1)],
        [ctx.out(op)],
        mode=modes[mode],
        padding_mode=padding,
        align_corners=int(bool(op.attrs.get("align_corners", True))),
    )


@register("pd_op.grid_sample", since=16)
def grid_sample(ctx, op):
    """Map to GridSample; honours mode (bilinear, nearest), padding_mode (zeros, border,
    reflection) and align_corners. A 5-D input needs opset 20."""
    _grid_sample(ctx, op, {"bilinear": "bilinear", "nearest": "nearest"})


@register("pd_op.grid_sample", since=20)
def grid_sample_20(ctx, op):
    """As the opset 16 variant, with GridSample-20's mode names and 5-D inputs."""
    _grid_sample(ctx, op, {"bilinear": "linear", "nearest": "nearest"})


@register("pd_op.unfold")
def unfold(ctx, op):
    """Compose im2col: one strided Slice per kernel tap, stacked channel-major.

    Honours kernel_sizes, strides, paddings ([top, left, bottom, right]) and dilations.
    A tap's Slice ends as far before the padded end as the last tap sits after it, so
    every tap yields Paddle's output size, dynamic spatial dims included.
    """
    x, shape = ctx.input(op, 0), ctx.in_value(op, 0).shape
    if shape is None or len(shape) != 4:
        raise Unsupported(f"expected a 4-D input, got shape {shape}")
    kernel, strides, dilations = (
        [int(v) for v in op.attrs[k]] for k in ("kernel_sizes", "strides", "dilations")
    )
    top, left, bottom, right = [int(v) for v in op.attrs["paddings"]]
    if any((top, left, bottom, right)):
        x = ctx.node("Pad", [x, ctx.int64s([0, 0, top, left, 0, 0, bottom, right])])
    taps = []
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            offsets = (i, j)
            starts = [o * d for o, d in zip(offsets, dilations)]
            ends = [-(k - 1 - o) * d or _TO_END for k, o, d in zip(kernel, offsets, dilations)]
            tap = ctx.node(
                "Slice",
                [
                    x,
                    ctx.int64s(starts),
                    ctx.int64s(ends),
                    ctx.int64s([2, 3]),
                    ctx.int64s(strides),
                ],
            )
            taps.append(ctx.node("Reshape", [tap, ctx.int64s([0, 0, 1, -1])]))
    stacked = ctx.node("Concat", taps, axis=2) if len(taps) > 1 else taps[0]
    channels = _Dims(ctx, x, shape)[1]
    count = len(taps)
    rows = (
        channels * count
        if _is_int(channels)
        else ctx.node("Mul", [channels, ctx.int64s([count])])
    )
    ctx.node("Reshape", [stacked, _vector(ctx, [0, rows, -1])], [ctx.out(op)])
