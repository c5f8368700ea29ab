"""Convolution, pooling, normalization and dropout.

ONNX's Conv, pools and BatchNormalization take channels first only, so a channels-last
(NHWC) Paddle op is exported as a transpose in, the op, and a transpose back out.
"""

import numpy as np
from onnx import TensorProto, numpy_helper

from harness.export.registry import Unsupported, register

# --- shared helpers ----------------------------------------------------------------------


def _channels_last(op, key: str = "data_format") -> bool:
    fmt = op.attrs.get(key, "NCHW")
    if fmt not in ("NCHW", "NHWC", "AnyLayout"):
        raise Unsupported(f"{key}={fmt!r} is not supported; expected 'NCHW' or 'NHWC'")
    return fmt == "NHWC"


def _perms(rank: int) -> tuple[list[int], list[int]]:
    """Return the permutations channels-last -> channels-first and back."""
    to_first = [0, rank - 1] + list(range(1, rank - 1))
    to_last = [0] + list(range(2, rank)) + [1]
    return to_first, to_last


def _spatial(ctx, op, last: bool) -> list:
    shape = ctx.in_value(op, 0).shape
    if shape is None or len(shape) != 4:
        raise Unsupported(f"expected a 4-D input, got shape {shape}")
    return list(shape[1:3] if last else shape[2:])


def _to_first(ctx, x: str, last: bool, rank: int = 4) -> str:
    return ctx.node("Transpose", [x], perm=_perms(rank)[0]) if last else x


def _emit(ctx, op, onnx_op: str, inputs, last: bool, rank: int = 4, **attrs) -> None:
    """Emit ``onnx_op`` into result 0, transposing back to channels-last when needed."""
    if not last:
        ctx.node(onnx_op, inputs, [ctx.out(op)], **attrs)
        return
    y = ctx.node(onnx_op, inputs, **attrs)
    ctx.node("Transpose", [y], [ctx.out(op)], perm=_perms(rank)[1])


def _used(ctx, name: str) -> bool:
    return name in ctx.graph.outputs or bool(ctx.graph.consumers(name))


def _reject_used(ctx, op, results, what: str) -> None:
    for i in results:
        if i < len(op.outputs) and _used(ctx, op.outputs[i]):
            raise Unsupported(f"result {i} ({what}) is used, and only result 0 is exported")


def _explicit_pads(paddings, n: int = 2) -> list[int]:
    """Paddle's [h, w] or [top, bottom, left, right] -> ONNX [top, left, bottom, right]."""
    p = [int(v) for v in paddings]
    if len(p) == n:
        return p + p
    if len(p) == 2 * n:
        return p[0::2] + p[1::2]
    raise Unsupported(f"paddings={p} has {len(p)} values; expected {n} or {2 * n}")


def _same_pads(spatial, kernel, strides) -> list[int]:
    """Return the pads of Paddle's SAME: output ceil(in / stride), the odd one at the end."""
    begins, ends = [], []
    for size, k, s in zip(spatial, kernel, strides):
        total = max((-(-size // s) - 1) * s + k - size, 0)
        begins.append(total // 2)
        ends.append(total - total // 2)
    return begins + ends


def _padding(op, spatial, kernel, strides) -> dict:
    """Return ONNX pads (or auto_pad) for ``padding_algorithm`` and ``paddings``.

    SAME needs the spatial sizes. When they are dynamic, ONNX's SAME_UPPER puts the odd
    pad at the end as Paddle does, but ONNX Runtime fails where the pad would be negative
    (a kernel smaller than its stride, at some sizes) while Paddle clamps it at 0; then
    ``{"run_time": True}`` asks the caller to pad explicitly (see _pad_same_at_run_time).
    """
    algorithm = op.attrs.get("padding_algorithm", "EXPLICIT")
    if algorithm == "VALID":
        return {"pads": [0, 0, 0, 0]}
    if algorithm == "SAME":
        if any(k is None for k in kernel):
            raise Unsupported("SAME padding needs the kernel size, which is dynamic here")
        if all(d is not None for d in spatial):
            return {"pads": _same_pads(spatial, kernel, strides)}
        if all(k >= s for k, s in zip(kernel, strides)):
            return {"auto_pad": "SAME_UPPER"}
        return {"run_time": True}
    if algorithm != "EXPLICIT":
        raise Unsupported(f"padding_algorithm={algorithm!r} is not supported")
    return {"pads": _explicit_pads(op.attrs.get("paddings", [0, 0]))}


def _pad_same_at_run_time(ctx, x: str, kernel, strides, value=None) -> str:
    """Pad channels-first ``x`` as Paddle's SAME does, from its sizes at run time."""
    begins, ends = _same_pads_at_run_time(ctx, x, kernel, strides)
    zeros = ctx.int64s([0, 0])
    pads = ctx.node("Concat", [zeros, *begins, zeros, *ends], axis=0)
    return ctx.node("Pad", [x, pads] + ([] if value is None else [value]))


def _same_pads_at_run_time(ctx, x: str, kernel, strides) -> tuple[list, list]:
    """Return Paddle's SAME (begin, end) pads of each spatial dim as int64 [1] tensors."""
    begins, ends = [], []
    for axis, (k, s) in enumerate(zip(kernel, strides)):
        size = _shape_dim(ctx, x, 2 + axis)
        out = ctx.node("Div", [ctx.node("Add", [size, ctx.int64s([s - 1])]), ctx.int64s([s])])
        span = ctx.node("Mul", [ctx.node("Sub", [out, ctx.int64s([1])]), ctx.int64s([s])])
        total = ctx.node("Sub", [ctx.node("Add", [span, ctx.int64s([k])]), size])
        # Where, not Max: Max takes integers only from opset 12.
        negative = ctx.node("Less", [total, ctx.int64s([0])])
        total = ctx.node("Where", [negative, ctx.int64s([0]), total])
        begins.append(ctx.node("Div", [total, ctx.int64s([2])]))
        ends.append(ctx.node("Sub", [total, begins[-1]]))
    return begins, ends


def _shape_dim(ctx, x: str, axis: int) -> str:
    """Return dim ``axis`` of ``x`` as a 1-element int64 tensor, read at run time."""
    shape = ctx.node("Shape", [x])
    return ctx.node("Slice", [shape, ctx.int64s([axis]), ctx.int64s([axis + 1])])


def _ints(values) -> list[int]:
    return [int(v) for v in values]


# --- convolution -------------------------------------------------------------------------


def _conv_geometry(ctx, op):
    """Return (channels_last, spatial, kernel, strides, dilations, pads) of a (transposed) conv.

    Paddle's SAME ignores the dilations (its kernel resets them to 1).
    """
    last = _channels_last(op)
    spatial = _spatial(ctx, op, last)
    kernel = list(ctx.in_value(op, 1).shape[2:])
    strides = _ints(op.attrs["strides"])
    dilations = _ints(op.attrs.get("dilations", [1, 1]))
    if op.attrs.get("padding_algorithm") == "SAME":
        dilations = [1, 1]
    return last, spatial, kernel, strides, dilations, _padding(op, spatial, kernel, strides)


@register("pd_op.conv2d")
@register("pd_op.depthwise_conv2d")
def conv2d(ctx, op):
    """Convert to Conv (the bias is a separate reshape + add in Paddle's program).

    Honours strides, paddings (2 or 4 values), padding_algorithm EXPLICIT/SAME/VALID,
    dilations, groups and data_format NCHW/NHWC. Paddle's SAME ignores the dilations (its
    kernel resets them to 1), and so does the export.
    """
    last, spatial, kernel, strides, dilations, pads = _conv_geometry(ctx, op)
    x = _to_first(ctx, ctx.input(op, 0), last)
    if pads.pop("run_time", False):
        x = _pad_same_at_run_time(ctx, x, kernel, strides)
        pads["pads"] = [0, 0, 0, 0]
    attrs = dict(strides=strides, dilations=dilations, group=int(op.attrs.get("groups", 1)))
    _emit(ctx, op, "Conv", [x, ctx.input(op, 1)], last, **attrs, **pads)


@register("pd_op.conv2d_transpose")
@register("pd_op.depthwise_conv2d_transpose")
def conv2d_transpose(ctx, op):
    """Convert to ConvTranspose.

    Honours strides, paddings (2 or 4 values), padding_algorithm EXPLICIT/SAME/VALID,
    dilations (reset to 1 under SAME, as Paddle does), groups, output_padding, a constant
    output_size (static spatial dims: it becomes output_padding) and data_format. SAME on
    dynamic spatial dims runs unpadded and slices Paddle's pads off at run time.
    """
    last, spatial, kernel, strides, dilations, pads = _conv_geometry(ctx, op)
    sliced = "pads" not in pads  # SAME on dynamic dims
    pads = {"pads": [0, 0, 0, 0]} if sliced else pads
    extra = _ints(op.attrs.get("output_padding") or [0, 0])
    size = ctx.const(op, 2)
    if size is None:
        raise Unsupported("conv2d_transpose output_size must be a constant")
    if len(size):
        extra = _output_padding(spatial, kernel, strides, dilations, pads["pads"], size)
    x = _to_first(ctx, ctx.input(op, 0), last)
    group = int(op.attrs.get("groups", 1))
    attrs = dict(strides=strides, dilations=dilations, group=group, output_padding=extra)
    if not sliced:
        _emit(ctx, op, "ConvTranspose", [x, ctx.input(op, 1)], last, **attrs, **pads)
        return
    y = ctx.node("ConvTranspose", [x, ctx.input(op, 1)], **attrs, **pads)
    begins, ends = _same_pads_at_run_time(ctx, x, kernel, strides)
    stops = [ctx.node("Sub", [_shape_dim(ctx, y, 2 + i), e]) for i, e in enumerate(ends)]
    starts = ctx.node("Concat", begins, axis=0)
    stops = ctx.node("Concat", stops, axis=0)
    inputs = [y, starts, stops, ctx.int64s([2, 3])]
    if not last:
        ctx.node("Slice", inputs, [ctx.out(op)])
        return
    ctx.node("Transpose", [ctx.node("Slice", inputs)], [ctx.out(op)], perm=_perms(4)[1])


def _output_padding(spatial, kernel, strides, dilations, pads, size) -> list[int]:
    """Return the output_padding that makes ConvTranspose produce Paddle's output_size."""
    if any(d is None for d in spatial):
        raise Unsupported("conv2d_transpose output_size with dynamic spatial dims")
    extra = []
    for i, (d, k, s, dil) in enumerate(zip(spatial, kernel, strides, dilations)):
        natural = (d - 1) * s - pads[i] - pads[i + 2] + dil * (k - 1) + 1
        extra.append(int(size[i]) - natural)
    return extra


# --- pooling -----------------------------------------------------------------------------


def _reduce(ctx, kind: str, x: str, axes) -> str:
    # Reduce ops take their axes as an input from opset 18 on.
    onnx_op = "ReduceMax" if kind == "max" else "ReduceMean"
    axes = [axes] if isinstance(axes, int) else list(axes)
    if ctx.opset >= 18:
        return ctx.node(onnx_op, [x, ctx.int64s(axes)], keepdims=1)
    return ctx.node(onnx_op, [x], axes=axes, keepdims=1)


def _normalize(ctx, x: str, axes, epsilon: float, dtype: str) -> str:
    """Return (x - mean) / sqrt(var + eps) over ``axes``, the variance in two passes.

    Two passes, as Paddle's layer and instance norms take it: ONNX Runtime's
    InstanceNormalization loses digits where the mean is large against the spread
    (measured: [4, 4, 4, 4.01] off by 2.5e-5 relative).
    """
    eps = ctx.const_tensor(np.asarray(epsilon, dtype))
    centered = ctx.node("Sub", [x, _reduce(ctx, "avg", x, axes)])
    variance = _reduce(ctx, "avg", ctx.node("Mul", [centered, centered]), axes)
    return ctx.node("Div", [centered, ctx.node("Sqrt", [ctx.node("Add", [variance, eps])])])


def _adaptive_axis(ctx, kind: str, x: str, axis: int, size, out: int) -> str:
    """Pool ``x`` along ``axis`` to ``out`` cells with Paddle's adaptive windows.

    Cell i covers [floor(i * size / out), ceil((i + 1) * size / out)); the windows of
    neighbouring cells overlap when ``out`` does not divide ``size``, which no ONNX pool
    can express, so each cell is a Slice and a reduction. A rectangle's mean is the mean
    of its row means (all rows have the same length), so the two axes pool one at a time.
    """
    cells = []
    for i in range(out):
        if size is not None:
            start = ctx.int64s([i * size // out])
            end = ctx.int64s([-(-(i + 1) * size // out)])
        else:
            dim = _shape_dim(ctx, x, axis)
            start = ctx.node(
                "Div", [ctx.node("Mul", [dim, ctx.int64s([i])]), ctx.int64s([out])]
            )
            numerator = ctx.node("Mul", [dim, ctx.int64s([i + 1])])
            numerator = ctx.node("Add", [numerator, ctx.int64s([out - 1])])
            end = ctx.node("Div", [numerator, ctx.int64s([out])])
        piece = ctx.node("Slice", [x, start, end, ctx.int64s([axis])])
        cells.append(_reduce(ctx, kind, piece, axis))
    return cells[0] if out == 1 else ctx.node("Concat", cells, axis=axis)


def _adaptive_size(size, spatial) -> list:
    """Resolve an adaptive output size: -1 keeps that dim (None when it is dynamic)."""
    return [s if s > 0 else spatial[i] for i, s in enumerate(size)]


def _even_windows(spatial, size) -> list[int] | None:
    """Return the kernel (= stride) of adaptive windows that tile the input, else None.

    A dim kept as it is (size None: dynamic and kept) has windows of one element.
    """
    kernel = []
    for d, o in zip(spatial, size):
        if o is None:
            kernel.append(1)
        elif d is not None and d % o == 0:
            kernel.append(d // o)
        else:
            return None
    return kernel


def _adaptive(ctx, op, kind: str, x: str, spatial, size, last: bool) -> None:
    """Adaptive pooling to ``size`` (see _adaptive_size), as a pool where it is one."""
    if size == [1, 1]:
        onnx_op = "GlobalMaxPool" if kind == "max" else "GlobalAveragePool"
        _emit(ctx, op, onnx_op, [x], last)
        return
    kernel = _even_windows(spatial, size)
    if kernel is not None:
        # Even windows: kernel = stride = in / out, no padding.
        onnx_op = "MaxPool" if kind == "max" else "AveragePool"
        _emit(ctx, op, onnx_op, [x], last, kernel_shape=kernel, strides=kernel)
        return
    for axis, (dim, out) in enumerate(zip(spatial, size)):
        if out is None or out == dim:
            continue  # a dim kept as it is: windows of one element
        x = _adaptive_axis(ctx, kind, x, 2 + axis, dim, out)
    if last:
        ctx.node("Transpose", [x], [ctx.out(op)], perm=_perms(4)[1])
    else:
        ctx.alias(ctx.out(op), x)


# AdaptiveMaxPool2D makes max_pool2d_with_index; pool2d's own max + adaptive path is wrong
# (measured: output [1, 2] over a 3x2 input gives [1, 1], the true maxima are [4, 5]).
_ADAPTIVE_MAX = (
    "pool2d with pooling_type='max' and adaptive=True: Paddle's own kernel returns wrong "
    "maxima there, so there is nothing right to reproduce"
)
_PAST_INPUT = (
    "ceil_mode makes Paddle's last window start past the input, in the end padding, where "
    "it returns -FLT_MAX (max) or NaN / 0 (avg); ONNX pools drop such a window"
)


def _check_ceil_windows(spatial, kernel, strides, pads) -> None:
    """Reject ceil-mode pooling where Paddle's last window holds no input element.

    Paddle's ceil-mode output is ceil((in + pads - k) / s) + 1 cells; ONNX Runtime drops the
    last one when it would start at or past in + pad_begin. The last start is at most
    in + pad_end - k + s - 1 past the padded origin, so a dynamic dim is safe when
    s <= k - pad_end; under SAME, whose pad_end stays below k when k >= s, when k >= s.
    """
    n, same = len(kernel), "pads" not in pads  # SAME padding on dynamic dims
    for i, (size, k, s) in enumerate(zip(spatial, kernel, strides)):
        if size is None:
            end = 0 if same else pads["pads"][i + n]
            if s > k - end:
                raise Unsupported(_PAST_INPUT + " (possible at some sizes of a dynamic dim)")
            continue
        if same:
            begin, end = _same_pads([size], [k], [s])
        else:
            begin, end = pads["pads"][i], pads["pads"][i + n]
        out = -(-(size + begin + end - k) // s) + 1
        if (out - 1) * s >= size + begin:
            raise Unsupported(_PAST_INPUT)


def _inclusive_avg(ctx, x, spatial, kernel, strides, pads, ceil):
    """Return (input, pads) that make Paddle's exclusive=False average an exclusive one.

    Paddle's divisor counts a window's elements inside [-pad_begin, in + pad_begin): the
    end pad counts only up to the size of the begin pad (measured: k=3, pads [0, 1] on
    ones gives 1.0 at the last cell, not 2/3). So pad the input with zeros by pad_begin on
    both sides (pad_end when smaller) and average without counting ONNX's remaining pads.
    A ceil-mode window can overhang that zero padding when pad_end < pad_begin; Paddle
    would count the overhang, so that case is rejected.
    """
    if "auto_pad" in pads:
        raise Unsupported(
            "avg pooling with exclusive=False and SAME padding on dynamic spatial dims: "
            "Paddle leaves the odd end pad out of the divisor, which needs the pads at "
            "export time"
        )
    n = len(kernel)
    begins, ends = pads["pads"][:n], pads["pads"][n:]
    zero_ends = [min(b, e) for b, e in zip(begins, ends)]
    for size, k, s, b, e in zip(spatial, kernel, strides, begins, ends):
        if not ceil or e >= b:
            continue
        total = None if size is None else size + b + e
        if total is None or (-(-(total - k) // s)) * s + k > total:
            raise Unsupported(
                "avg pooling with exclusive=False and ceil_mode, where the last window "
                "overhangs an end pad smaller than the begin pad"
                + (" (possible at some sizes of a dynamic dim)" if total is None else "")
            )
    if any(begins) or any(zero_ends):
        x = ctx.node("Pad", [x, ctx.int64s([0, 0] + begins + [0, 0] + zero_ends)])
    return x, {"pads": [0] * n + [e - z for e, z in zip(ends, zero_ends)]}


@register("pd_op.pool2d")
def pool2d(ctx, op):
    """Convert to MaxPool / AveragePool (Global* for global and 1x1 adaptive pooling).

    Honours pooling_type max/avg, the kernel_size operand (a constant), strides, paddings,
    padding_algorithm EXPLICIT/SAME/VALID, ceil_mode, exclusive (exclusive=False as an
    explicit zero Pad, see _inclusive_avg), global_pooling, adaptive (evenly dividing sizes become a pool, the rest an
    exact slice-and-reduce composition) and data_format NCHW/NHWC.
    """
    kind = op.attrs.get("pooling_type")
    if kind not in ("max", "avg"):
        raise Unsupported(f"pooling_type={kind!r} is not supported; expected 'max' or 'avg'")
    last = _channels_last(op)
    spatial = _spatial(ctx, op, last)
    size = _ints(ctx.require_const(op, 1, "pool2d kernel_size"))
    x = _to_first(ctx, ctx.input(op, 0), last)
    if op.attrs.get("global_pooling"):
        onnx_op = "GlobalMaxPool" if kind == "max" else "GlobalAveragePool"
        _emit(ctx, op, onnx_op, [x], last)
        return
    if op.attrs.get("adaptive"):
        if kind == "max":
            raise Unsupported(_ADAPTIVE_MAX)
        _adaptive(ctx, op, kind, x, spatial, _adaptive_size(size, spatial), last)
        return
    strides = _ints(op.attrs["strides"])
    pads = _padding(op, spatial, size, strides)
    ceil = bool(op.attrs.get("ceil_mode"))
    if ceil:
        _check_ceil_windows(spatial, size, strides, pads)
    if pads.pop("run_time", False):
        if kind == "avg":
            raise Unsupported(
                "avg pooling with SAME padding, a kernel smaller than its stride and "
                "dynamic spatial dims: the pads vary with the size and change the divisor"
            )
        # Padding with -inf leaves every window's max alone: SAME windows hold input.
        lowest = ctx.const_tensor(np.asarray(-np.inf, ctx.dtype(op, 0)))
        x = _pad_same_at_run_time(ctx, x, size, strides, lowest)
        pads["pads"] = [0, 0, 0, 0]
    if kind == "avg" and not op.attrs.get("exclusive", True):
        x, pads = _inclusive_avg(ctx, x, spatial, size, strides, pads, ceil)
    attrs = dict(kernel_shape=size, strides=strides, ceil_mode=int(ceil), **pads)
    if kind == "avg":
        attrs["count_include_pad"] = 0
    _emit(ctx, op, "MaxPool" if kind == "max" else "AveragePool", [x], last, **attrs)


# --- normalization and dropout -----------------------------------------------------------


@register("pd_op.batch_norm_")
@register("pd_op.batch_norm")
def batch_norm(ctx, op):
    """Convert inference-mode batch norm to BatchNormalization.

    Honours epsilon and data_format (NCHW, or NHWC: channels last at any rank); runs in
    inference form when is_test (without trainable_statistics) or use_global_stats is set,
    and rejects the training form, which normalizes with batch statistics. Results 1 and 2
    (mean_out, variance_out) equal the running statistics then; results 3..5 are rejected
    when used. An absent scale / bias is 1 / 0.
    """
    attrs = op.attrs
    test = attrs.get("is_test") and not attrs.get("trainable_statistics")
    if not (test or attrs.get("use_global_stats")):
        raise Unsupported("batch norm in training form (batch statistics) is not supported")
    _reject_used(ctx, op, (3, 4, 5), "saved statistics")
    rank = ctx.rank(op, 0)
    last = _channels_last(op) and rank > 2
    mean, variance = ctx.input(op, "mean"), ctx.input(op, "variance")
    channels = ctx.in_value(op, "mean").shape
    dtype = ctx.in_value(op, "mean").dtype
    scale = ctx.optional_input(op, "scale") or ctx.const_tensor(np.ones(channels, dtype))
    bias = ctx.optional_input(op, "bias") or ctx.const_tensor(np.zeros(channels, dtype))
    x = _to_first(ctx, ctx.input(op, 0), last, rank)
    inputs = [x, scale, bias, mean, variance]
    _emit(ctx, op, "BatchNormalization", inputs, last, rank, epsilon=attrs["epsilon"])
    for i, stat in ((1, mean), (2, variance)):
        if len(op.outputs) > i:
            ctx.alias(op.outputs[i], stat)


def _norm_shape(ctx, x: str, begin: int) -> str:
    """Return the shape of dims ``begin:`` of ``x``, read at run time."""
    return ctx.node(
        "Slice", [ctx.node("Shape", [x]), ctx.int64s([begin]), ctx.int64s([2**62])]
    )


def _layer_norm_params(ctx, op, x: str, begin: int):
    """Return scale and bias reshaped from Paddle's flat [prod(normalized dims)] form."""
    rank = ctx.rank(op, 0)
    params = [ctx.optional_input(op, "scale"), ctx.optional_input(op, "bias")]
    if begin == rank - 1 or all(p is None for p in params):
        return params  # already in the normalized shape
    shape = _norm_shape(ctx, x, begin)
    return [None if p is None else ctx.node("Reshape", [p, shape]) for p in params]


def _layer_norm_checks(ctx, op) -> int:
    _reject_used(ctx, op, (1, 2), "mean / variance")
    begin = int(op.attrs["begin_norm_axis"])
    return begin + ctx.rank(op, 0) if begin < 0 else begin


@register("pd_op.layer_norm")
def layer_norm(ctx, op):
    """Compose layer norm from ReduceMean, Sub, Mul, Sqrt and Div (no LayerNormalization
    before opset 17).

    Honours begin_norm_axis, epsilon and the optional flat scale / bias; results 1 and 2
    (mean, variance) are rejected when used.
    """
    begin = _layer_norm_checks(ctx, op)
    x = ctx.input(op, 0)
    axes = list(range(begin, ctx.rank(op, 0)))
    scale, bias = _layer_norm_params(ctx, op, x, begin)
    y = _normalize(ctx, x, axes, op.attrs["epsilon"], ctx.dtype(op, 0))
    steps = [("Mul", scale), ("Add", bias)]
    steps = [(onnx_op, p) for onnx_op, p in steps if p is not None]
    for k, (onnx_op, p) in enumerate(steps):
        y = ctx.node(onnx_op, [y, p], [ctx.out(op)] if k == len(steps) - 1 else 1)
    if not steps:
        ctx.alias(ctx.out(op), y)


@register("pd_op.layer_norm", since=17)
def layer_norm_17(ctx, op):
    """Convert to LayerNormalization; an absent scale becomes ones of the normalized shape.

    Honours begin_norm_axis, epsilon and the optional flat scale / bias; results 1 and 2
    (mean, variance) are rejected when used.
    """
    begin = _layer_norm_checks(ctx, op)
    x = ctx.input(op, 0)
    scale, bias = _layer_norm_params(ctx, op, x, begin)
    if scale is None:
        one = np.ones([1], ctx.dtype(op, 0))
        scale = ctx.node(
            "ConstantOfShape", [_norm_shape(ctx, x, begin)], value=numpy_helper.from_array(one)
        )
    inputs = [x, scale] + ([bias] if bias is not None else [])
    ctx.node(
        "LayerNormalization", inputs, [ctx.out(op)], axis=begin, epsilon=op.attrs["epsilon"]
    )


@register("pd_op.dropout")
def dropout(ctx, op):
    """Convert inference-mode dropout: identity, or a multiply by 1 - p.

    Honours is_test and mode ('upscale_in_train': identity; 'downgrade_in_infer': x * (1 -
    p), p a constant operand). Rejects training mode (random masks) and a used mask result.
    """
    if not op.attrs.get("is_test"):
        raise Unsupported("dropout in training mode draws random masks; export in eval mode")
    _reject_used(ctx, op, (1,), "mask")
    mode = op.attrs.get("mode")
    x = ctx.input(op, 0)
    if mode == "upscale_in_train":
        ctx.alias(ctx.out(op), x)
        return
    if mode != "downgrade_in_infer":
        raise Unsupported(f"dropout mode={mode!r} is not supported")
    p = np.float32(ctx.require_const(op, "p", "dropout p").reshape(-1)[0])
    # Paddle scales by 1.0f - p in float32, then in the input's dtype.
    keep = np.asarray(np.float32(1.0) - p, ctx.dtype(op, 0))
    ctx.node("Mul", [x, ctx.const_tensor(keep)], [ctx.out(op)])


def _plane_indices(ctx, x: str, indices: str, spatial, mask: str) -> None:
    """Write Paddle's mask (index within each H*W plane, int32) from flat ONNX indices.

    ONNX numbers a max over the whole N*C*H*W tensor, Paddle within the plane, so the
    plane index is the flat one modulo H*W.
    """
    if all(d is not None for d in spatial):
        plane = ctx.int64s([spatial[0] * spatial[1]])
    else:
        plane = ctx.node("Mul", [_shape_dim(ctx, x, 2), _shape_dim(ctx, x, 3)])
    ctx.node("Cast", [ctx.node("Mod", [indices, plane])], [mask], to=TensorProto.INT32)


def _global_argmax(ctx, x: str, mask: str) -> None:
    # ArgMax keeps the first of equal maxima, as Paddle's scan does.
    flat = ctx.node("Reshape", [x, ctx.int64s([0, 0, -1])])
    best = ctx.node("ArgMax", [flat], axis=2, keepdims=1)
    best = ctx.node("Reshape", [best, ctx.int64s([0, 0, 1, 1])])
    ctx.node("Cast", [best], [mask], to=TensorProto.INT32)


@register("pd_op.max_pool2d_with_index")
def max_pool2d_with_index(ctx, op):
    """Convert to MaxPool with Indices (or GlobalMaxPool + ArgMax), mask = index % (H*W).

    Honours kernel_size, strides, paddings, ceil_mode, global_pooling and adaptive (as
    pool2d does). The mask of an adaptive pool whose windows overlap (the output size does
    not divide the input size) is rejected; its values are exported.
    """
    spatial = _spatial(ctx, op, False)
    size = _ints(op.attrs["kernel_size"])
    x = ctx.input(op, 0)
    out, mask = ctx.out(op, 0), ctx.out(op, 1)
    want_mask = _used(ctx, mask)
    adaptive = op.attrs.get("adaptive")
    if adaptive:
        size = _adaptive_size(size, spatial)
    if op.attrs.get("global_pooling") or (adaptive and size == [1, 1]):
        ctx.node("GlobalMaxPool", [x], [out])
        if want_mask:
            _global_argmax(ctx, x, mask)
        return
    if adaptive:
        kernel = _even_windows(spatial, size)
        if kernel is None:
            if want_mask:
                raise Unsupported(_OVERLAPPING_MASK)
            _adaptive(ctx, op, "max", x, spatial, size, False)
            return
        attrs = dict(kernel_shape=kernel, strides=kernel)
    else:
        strides = _ints(op.attrs["strides"])
        pads = {"pads": _explicit_pads(op.attrs.get("paddings", [0, 0]))}
        ceil = bool(op.attrs.get("ceil_mode"))
        if ceil:
            _check_ceil_windows(spatial, size, strides, pads)
        attrs = dict(kernel_shape=size, strides=strides, ceil_mode=int(ceil), **pads)
    if not want_mask:
        ctx.node("MaxPool", [x], [out], **attrs)
        return
    indices = ctx.builder.fresh(f"{mask}_flat")
    ctx.node("MaxPool", [x], [out, indices], **attrs)
    _plane_indices(ctx, x, indices, spatial, mask)


_OVERLAPPING_MASK = (
    "the mask of adaptive max pooling whose output size does not divide the input size "
    "(overlapping windows; only the values are exported)"
)


def _channels(ctx, op, axis: int = 1) -> int:
    channels = ctx.in_value(op, 0).shape[axis]
    if channels is None:
        raise Unsupported("the channel dim must be static")
    return channels


@register("pd_op.instance_norm")
def instance_norm(ctx, op):
    """Compose instance norm: normalize over the spatial dims, then the per-channel affine.

    Honours epsilon and the optional scale / bias (channels first, any rank from 3);
    results 1 and 2 (saved mean / variance) are rejected when used. Not
    InstanceNormalization: see _normalize.
    """
    _reject_used(ctx, op, (1, 2), "saved mean / variance")
    rank = ctx.rank(op, 0)
    if rank < 3:
        raise Unsupported("instance_norm needs an input of rank 3 or more")
    y = _normalize(
        ctx, ctx.input(op, 0), range(2, rank), op.attrs["epsilon"], ctx.dtype(op, 0)
    )
    _channel_affine(ctx, op, y, _channels(ctx, op), rank, False)


def _channel_affine(ctx, op, y: str, channels: int, rank: int, last: bool) -> None:
    """Write y * scale + bias (per channel of channels-first ``y``, each optional)."""
    per_channel = ctx.int64s([channels] + [1] * (rank - 2))
    steps = [("Mul", ctx.optional_input(op, "scale")), ("Add", ctx.optional_input(op, "bias"))]
    steps = [(onnx_op, ctx.node("Reshape", [p, per_channel])) for onnx_op, p in steps if p]
    for onnx_op, p in steps[:-1]:
        y = ctx.node(onnx_op, [y, p])
    if steps:
        _emit(ctx, op, steps[-1][0], [y, steps[-1][1]], last, rank)
    elif last:
        ctx.node("Transpose", [y], [ctx.out(op)], perm=_perms(rank)[1])
    else:
        ctx.alias(ctx.out(op), y)


@register("pd_op.group_norm")
def group_norm(ctx, op):
    """Compose group norm: normalize x as [N, groups, -1], then the per-channel affine.

    Honours groups, epsilon, data_format (NCHW / NHWC, any rank from 3) and the optional
    per-channel scale / bias; results 1 and 2 (mean / variance) are rejected when used.
    ONNX's GroupNormalization is left alone: opset 18 took per-group scales, 21 changed
    them to per-channel. Paddle's CPU kernel takes the variance in one pass (E[x^2] -
    E[x]^2); the export's two-pass variance is the more exact where a group's mean is
    large against its spread, and differs from Paddle there by Paddle's rounding.
    """
    _reject_used(ctx, op, (1, 2), "mean / variance")
    rank = ctx.rank(op, 0)
    if rank < 3:
        raise Unsupported("group_norm needs an input of rank 3 or more")
    last = _channels_last(op)
    channels = _channels(ctx, op, rank - 1 if last else 1)
    groups = int(op.attrs["groups"])
    x = _to_first(ctx, ctx.input(op, 0), last, rank)
    grouped = ctx.node("Reshape", [x, ctx.int64s([0, groups, -1])])
    y = _normalize(ctx, grouped, [2], op.attrs["epsilon"], ctx.dtype(op, 0))
    y = ctx.node("Reshape", [y, ctx.node("Shape", [x])])
    _channel_affine(ctx, op, y, channels, rank, last)
