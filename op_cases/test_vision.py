"""Cases for harness/export/vision.py: resizing, padding, shuffles, flip and roll."""

import numpy as np
import paddle
import paddle.nn.functional as F
from hypothesis import strategies as st

from harness.cases import OpCase, case_tests
from harness.cases.strategies import Input, dynamic_subset, program, shapes

# --- resizing --------------------------------------------------------------------------------

_FORMATS = {1: ("NCW", "NWC"), 2: ("NCHW", "NHWC"), 3: ("NCDHW", "NDHWC")}
_SPATIAL_RANKS = {"linear": (1,), "bilinear": (2,), "bicubic": (2,), "trilinear": (3,)}
_SPATIAL_RANKS["nearest"] = (2, 3)
_VALUE_RANGES = {"uint8": (0, 255), "int32": (-100, 100), "int64": (-100, 100)}


class Interp(paddle.nn.Layer):
    """F.interpolate with fixed settings; ``form`` says how the size or scale is given.

    size: ints (attributes); scale / scalar: scale_factor as a list / one float; size_tensor:
    a list holding a tensor (``size_tensor`` operand); out_size: one tensor (``out_size``,
    through a cast); scale_tensor: a tensor (``scale_tensor``); nn: paddle.nn.Upsample.
    """

    def __init__(self, form, value, **kwargs):
        super().__init__()
        self.form, self.value, self.kwargs = form, value, kwargs
        if form == "nn":
            key = "size" if isinstance(value[0], int) else "scale_factor"
            self.upsample = paddle.nn.Upsample(**{key: value}, **kwargs)

    def forward(self, x):
        if self.form == "size":
            return F.interpolate(x, size=self.value, **self.kwargs)
        if self.form == "scale":
            return F.interpolate(x, scale_factor=self.value, **self.kwargs)
        if self.form == "scalar":
            return F.interpolate(x, scale_factor=self.value[0], **self.kwargs)
        if self.form == "size_tensor":
            size = [paddle.to_tensor(self.value[0])] + list(self.value[1:])
            return F.interpolate(x, size=size, **self.kwargs)
        if self.form == "out_size":
            return F.interpolate(x, size=paddle.to_tensor(self.value), **self.kwargs)
        if self.form == "scale_tensor":
            scale = paddle.to_tensor(self.value, dtype="float32")
            return F.interpolate(x, scale_factor=scale, **self.kwargs)
        return self.upsample(x)


class InterpLike(paddle.nn.Layer):
    """Resize ``x`` to the spatial size of ``y``, read at run time (``size_tensor``)."""

    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = kwargs

    def forward(self, x, y):
        return F.interpolate(x, size=y.shape[2:], **self.kwargs)


class InterpOp(paddle.nn.Layer):
    """Call the PIR op directly, for settings F.interpolate never passes."""

    def __init__(self, method, layout, out, scale, align_corners, align_mode=0):
        super().__init__()
        self.method, self.layout, self.out, self.scale = method, layout, out, scale
        self.align_corners, self.align_mode = align_corners, align_mode

    def forward(self, x):
        return self.call(x, None)

    def call(self, x, out_size):
        fn = getattr(paddle._C_ops, f"{self.method}_interp")
        out_d, out_h, out_w = ([-1, -1, -1] + list(self.out))[-3:]
        return fn(
            x,
            out_size,
            None,
            None,
            self.layout,
            out_d,
            out_h,
            out_w,
            self.scale,
            self.method,
            self.align_corners,
            self.align_mode,
        )


class InterpOutSize(InterpOp):
    def forward(self, x, out_size):
        return self.call(x, out_size)


def _scaled(size: int, scale: float) -> int:
    return int(np.float32(size) * np.float32(scale))


def _scales(draw, sizes, spatial, dynamic, min_out, min_scale=0.0):
    """Draw a scale per dim; a dynamic dim also runs at size 1, so it scales by 1 or more."""
    choice = st.one_of(
        st.sampled_from([0.5, 1.0, 1.25, 1.5, 2.0, 3.0]),
        st.floats(0.25, 3.5, width=32),
    )
    scales = []
    for dim in spatial:
        scale = max(draw(choice), min_scale)
        if dim in dynamic:
            scale = max(scale, 1.0)
        # Paddle needs an output of at least 1; bicubic one above 1 unless the input is 1.
        while _scaled(sizes[dim], scale) < (min_out if sizes[dim] > 1 else 1):
            scale += 0.5
        scales.append(float(np.float32(scale)))
    return scales


def _image_input(draw, n, last, dtype):
    channels = draw(st.integers(1, 2))
    spatial = [f"s{i}" for i in range(n)]
    shape = ("n", *spatial, channels) if last else ("n", channels, *spatial)
    sizes = {"n": draw(st.integers(1, 2)), **{d: draw(st.integers(1, 5)) for d in spatial}}
    dynamic = dynamic_subset(draw, ["n", *spatial])
    low, high = _VALUE_RANGES.get(dtype, (-4.0, 4.0))
    return Input("x", shape, dtype, low, high), spatial, sizes, dynamic


@st.composite
def interp_programs(draw, method, forms, dtypes=("float32",)):
    """Draw F.interpolate / nn.Upsample over rank, layout, size or scale and alignment.

    Bicubic without align_corners keeps every output dim above 1 and takes run-time
    sizes only with align_corners; channels-last bicubic never shrinks a dim (the other
    settings are cases of their own).
    """
    n = draw(st.sampled_from(_SPATIAL_RANKS[method]))
    last = draw(st.booleans())
    dtype = draw(st.sampled_from(dtypes))
    x, spatial, sizes, dynamic = _image_input(draw, n, last, dtype)
    form = draw(st.sampled_from(forms))
    align_corners = method != "nearest" and draw(st.booleans())
    if method == "bicubic" and form == "like":
        align_corners = True
    min_out = 2 if method == "bicubic" and not align_corners else 1
    # Channels-last bicubic must not shrink (a case of its own): scales of 1 or more,
    # sizes on static dims no smaller than the input.
    grow = method == "bicubic" and last
    if grow and form == "like":
        form = "size"
    kwargs = dict(mode=method, align_corners=align_corners, data_format=_FORMATS[n][last])
    kwargs["align_mode"] = draw(st.integers(0, 1))
    attrs = dict(form=form, **kwargs, dtype=dtype)
    if form == "like":
        like = [f"t{i}" for i in range(n)]
        for dim in like:
            sizes[dim] = draw(st.integers(min_out, 6))
        dynamic = [*dynamic, *like]
        y = Input("y", ("n", 1, *like))
        return program(draw, InterpLike(**kwargs), [x, y], sizes, dynamic, attrs)
    if form in ("scale", "scalar", "scale_tensor") or form == "nn" and draw(st.booleans()):
        value = _scales(draw, sizes, spatial, dynamic, min_out, 1.0 if grow else 0.0)
        if form == "scalar":
            # Each drawn scale is large enough for its dim, so the largest fits all.
            value = [max(value)] * n
    else:
        value = [draw(st.integers(min_out, 7)) for _ in spatial]
        if grow:
            dynamic = [d for d in dynamic if d not in spatial]
            value = [max(v, sizes[d]) for v, d in zip(value, spatial)]
    attrs["value"] = value
    return program(draw, Interp(form, value, **kwargs), [x], sizes, dynamic, attrs)


@st.composite
def upsampling2d_programs(draw, method):
    """Draw nn.UpsamplingBilinear2D (align_corners=True) / UpsamplingNearest2D."""
    last = draw(st.booleans())
    x, spatial, sizes, dynamic = _image_input(draw, 2, last, "float32")
    cls = (
        paddle.nn.UpsamplingBilinear2D
        if method == "bilinear"
        else paddle.nn.UpsamplingNearest2D
    )
    fmt = _FORMATS[2][last]
    if draw(st.booleans()):
        value = [draw(st.integers(1, 7)) for _ in spatial]
        layer = cls(size=value, data_format=fmt)
    else:
        value = _scales(draw, sizes, spatial, dynamic, 1)
        layer = cls(scale_factor=value, data_format=fmt)
    return program(draw, layer, [x], sizes, dynamic, dict(value=value, data_format=fmt))


@st.composite
def interp_op_programs(draw, method, align_corners, out_size_input=False):
    """Draw the PIR op called directly: nearest with align_corners, or a run-time
    out_size operand drawn per input set."""
    n = draw(st.sampled_from(_SPATIAL_RANKS[method]))
    last = draw(st.booleans())
    x, spatial, sizes, dynamic = _image_input(draw, n, last, "float32")
    layout = "NHWC" if last else "NCHW"
    align_mode = draw(st.integers(0, 1))
    attrs = dict(layout=layout, align_corners=align_corners, align_mode=align_mode)
    if out_size_input:
        layer = InterpOutSize(method, layout, [], [], align_corners, align_mode)
        size = Input("out_size", (n,), "int32", 1, 6)
        return program(draw, layer, [x, size], sizes, dynamic, attrs)
    if draw(st.booleans()):
        out, scale = [draw(st.integers(1, 7)) for _ in spatial], []
    else:
        out, scale = [], _scales(draw, sizes, spatial, dynamic, 1)
    attrs.update(out=out, scale=scale)
    layer = InterpOp(method, layout, out, scale, align_corners, align_mode)
    return program(draw, layer, [x], sizes, dynamic, attrs)


@st.composite
def fixed_interp_programs(draw, make_layer, shape, dtype="float32", dynamic=(), extra=()):
    """A fixed layer on a fixed input shape (``extra`` inputs drawn too); for known gaps."""
    names = [f"d{i}" for i in range(len(shape))]
    sizes = dict(zip(names, shape))
    low, high = _VALUE_RANGES.get(dtype, (-4.0, 4.0))
    inputs = [Input("x", tuple(names), dtype, low, high), *extra]
    dyn = [names[i] for i in dynamic]
    return program(draw, make_layer(), inputs, sizes, dyn)


_LINEAR_FORMS = ("size", "scale", "scalar", "size_tensor", "out_size", "scale_tensor", "like")
_ALL_FORMS = (*_LINEAR_FORMS, "nn")
_NEAREST_DTYPES = ("float32", "float16", "float64", "int32", "int64", "uint8")
_INTERP_API = "paddle.nn.functional.interpolate / paddle.nn.Upsample"

CASES = [
    OpCase(
        "pd_op.bilinear_interp",
        "any",
        interp_programs("bilinear", _ALL_FORMS, ("float32", "float16")),
        _INTERP_API,
    ),
    OpCase(
        "pd_op.bilinear_interp",
        "upsampling2d",
        upsampling2d_programs("bilinear"),
        "paddle.nn.UpsamplingBilinear2D",
    ),
    OpCase(
        "pd_op.bilinear_interp",
        "out_size_run_time",
        interp_op_programs("bilinear", False, out_size_input=True),
        "paddle.nn.functional.interpolate(size=Tensor)",
    ),
    OpCase("pd_op.linear_interp", "any", interp_programs("linear", _ALL_FORMS), _INTERP_API),
    OpCase(
        "pd_op.trilinear_interp", "any", interp_programs("trilinear", _ALL_FORMS), _INTERP_API
    ),
    OpCase(
        "pd_op.bicubic_interp",
        "any",
        interp_programs("bicubic", _ALL_FORMS, ("float32", "float16")),
        _INTERP_API,
    ),
    OpCase(
        "pd_op.nearest_interp",
        "any",
        interp_programs("nearest", _ALL_FORMS, _NEAREST_DTYPES),
        _INTERP_API,
    ),
    OpCase(
        "pd_op.nearest_interp",
        "upsampling2d",
        upsampling2d_programs("nearest"),
        "paddle.nn.UpsamplingNearest2D",
    ),
    OpCase(
        "pd_op.nearest_interp",
        "align_corners",
        interp_op_programs("nearest", True),
        "paddle._C_ops.nearest_interp(align_corners=True)",
    ),
    OpCase(
        "pd_op.nearest_interp",
        "out_size_run_time",
        interp_op_programs("nearest", False, out_size_input=True),
        "paddle.nn.functional.interpolate(size=Tensor)",
    ),
]

# Known gaps: each program hits exactly one Unsupported of the mapping.
_BICUBIC_AT_1 = (
    "bicubic_interp without align_corners to an output dim of size 1: Paddle samples at "
    "-0.5 there, which no ONNX coordinate mode gives"
)


class _ScaleTensorInput(paddle.nn.Layer):
    def forward(self, x, scale):
        return F.interpolate(x, scale_factor=scale, mode="bilinear")


CASES += [
    OpCase(
        "pd_op.bicubic_interp",
        "output_dim_1",
        fixed_interp_programs(lambda: Interp("size", [1, 3], mode="bicubic"), (1, 2, 3, 4)),
        _INTERP_API,
        xfail=_BICUBIC_AT_1,
    ),
    OpCase(
        "pd_op.bicubic_interp",
        "out_size_run_time",
        interp_op_programs("bicubic", False, out_size_input=True),
        "paddle.nn.functional.interpolate(size=Tensor)",
        xfail=_BICUBIC_AT_1 + " (the output size is only known at run time)",
    ),
    OpCase(
        "pd_op.bicubic_interp",
        "channels_last_shrink",
        fixed_interp_programs(
            lambda: Interp("size", [2, 3], mode="bicubic", data_format="NHWC"), (1, 3, 4, 2)
        ),
        _INTERP_API,
        xfail="channels-last bicubic_interp that may shrink a dim: ONNX Runtime's layout "
        "optimizer folds the transposes into a channels-last cubic Resize, which its "
        "kernel refuses below scale 1",
    ),
    OpCase(
        "pd_op.bilinear_interp",
        "float64",
        fixed_interp_programs(
            lambda: Interp("size", [3, 5], mode="bilinear"), (1, 2, 3, 4), "float64"
        ),
        _INTERP_API,
        xfail="float64 resizing: ONNX Runtime has no float64 Resize kernel",
    ),
    OpCase(
        "pd_op.bilinear_interp",
        "uint8",
        fixed_interp_programs(
            lambda: Interp("size", [3, 5], mode="bilinear"), (1, 2, 3, 4), "uint8"
        ),
        _INTERP_API,
        xfail="uint8 linear resizing: Paddle truncates the interpolated value, ONNX "
        "Runtime rounds it",
    ),
    OpCase(
        "pd_op.bilinear_interp",
        "scale_with_out_size",
        fixed_interp_programs(
            lambda: InterpOutSize("bilinear", "NCHW", [], [2.0, 2.0], False),
            (1, 2, 3, 4),
            extra=[Input("out_size", (2,), "int32", 1, 6)],
        ),
        "paddle._C_ops.bilinear_interp(out_size, scale)",
        xfail="a scale together with out_size: Paddle resizes to out_size with the "
        "scale's ratio, which ONNX Resize cannot express",
    ),
    OpCase(
        "pd_op.bilinear_interp",
        "scale_tensor_run_time",
        fixed_interp_programs(
            _ScaleTensorInput,
            (1, 2, 3, 4),
            extra=[Input("scale", (2,), "float32", 1.0, 3.0)],
        ),
        "paddle.nn.functional.interpolate(scale_factor=Tensor)",
        xfail="a scale tensor computed at run time is not supported",
    ),
]

# --- padding ---------------------------------------------------------------------------------


class Pad(paddle.nn.Layer):
    def __init__(self, pad, **kwargs):
        super().__init__()
        self.pad, self.kwargs = pad, kwargs

    def forward(self, x):
        return F.pad(x, self.pad, **self.kwargs)


class PadValue(paddle.nn.Layer):
    """F.pad with the fill value read from a second input at run time."""

    def __init__(self, pad):
        super().__init__()
        self.pad = pad

    def forward(self, x, value):
        return F.pad(x, self.pad, value=value)


class Pad3dOp(paddle.nn.Layer):
    """pd_op.pad3d with the paddings read from a second input at run time."""

    def __init__(self, mode, value, data_format):
        super().__init__()
        self.mode, self.value, self.data_format = mode, value, data_format

    def forward(self, x, paddings):
        return paddle._C_ops.pad3d(x, paddings, self.mode, self.value, self.data_format)


_PAD3D_MODES = ("constant", "reflect", "replicate", "circular")
_PAD_DTYPES = ("float32", "float64", "int32", "int64")


def _pad_pair(draw, size, dynamic: bool, mode: str) -> list[int]:
    """Draw (begin, end) for one dim; negative pads crop, and only static dims get them.

    A dynamic dim also runs at size 1: reflect leaves it unpadded, the others pad it by
    zero or more. Reflect needs each pad below the size.
    """
    if dynamic:
        return [0, 0] if mode == "reflect" else [draw(st.integers(0, 3)) for _ in "be"]
    top = size - 1 if mode == "reflect" else 3
    pair = [draw(st.integers(-1, top)), draw(st.integers(-1, top))]
    while size + sum(pair) < 1:
        pair = [p + 1 for p in pair]
    return pair


@st.composite
def pad3d_programs(draw):
    """Draw F.pad / nn.Pad1D-3D on a 3-D to 5-D input: pd_op.pad3d on a 5-D view."""
    n = draw(st.integers(1, 3))
    last = draw(st.booleans())
    mode = draw(st.sampled_from(_PAD3D_MODES))
    dtype = draw(st.sampled_from(_PAD_DTYPES))
    x, spatial, sizes, dynamic = _image_input(draw, n, last, dtype)
    if mode == "reflect":
        for dim in spatial:
            sizes[dim] = max(sizes[dim], draw(st.integers(1, 4)))
    pad = []
    for dim in reversed(spatial):  # F.pad lists the last dim first
        pad += _pad_pair(draw, sizes[dim], dim in dynamic, mode)
    value = draw(st.sampled_from([0.0, 1.5, -2.7]))
    fmt = {"NCW": "NCL", "NWC": "NLC"}.get(_FORMATS[n][last], _FORMATS[n][last])
    attrs = dict(pad=pad, mode=mode, value=value, data_format=fmt, dtype=dtype)
    layer = Pad(pad, mode=mode, value=value, data_format=fmt)
    return program(draw, layer, [x], sizes, dynamic, attrs)


@st.composite
def pad3d_run_time_programs(draw):
    """Draw pd_op.pad3d with paddings given at run time, drawn per input set."""
    last = draw(st.booleans())
    mode = draw(st.sampled_from(_PAD3D_MODES))
    x, spatial, sizes, dynamic = _image_input(draw, 3, last, "float32")
    # Reflect pads of up to 2 need every dim above 2, at every size a dynamic dim takes.
    for dim in spatial:
        sizes[dim] = max(sizes[dim], 3)
    dynamic = [d for d in dynamic if d == "n"]
    fmt = _FORMATS[3][last]
    paddings = Input("paddings", (6,), draw(st.sampled_from(["int32", "int64"])), 0, 2)
    layer = Pad3dOp(mode, draw(st.sampled_from([0.0, 2.5])), fmt)
    attrs = dict(mode=mode, data_format=fmt)
    return program(draw, layer, [x, paddings], sizes, dynamic, attrs)


@st.composite
def pad_programs(draw, run_time_value=False):
    """Draw F.pad with a pad for every dim (constant mode): pd_op.pad, any rank."""
    shape = draw(shapes(1, 4, 1, 4))
    names = tuple(f"d{i}" for i in range(len(shape)))
    dynamic = dynamic_subset(draw, names)
    dtype = draw(st.sampled_from(_PAD_DTYPES))
    pad = [draw(st.integers(0, 2)) for _ in range(2 * len(shape))]
    low, high = _VALUE_RANGES.get(dtype, (-4.0, 4.0))
    x = Input("x", names, dtype, low, high)
    attrs = dict(pad=pad, dtype=dtype)
    if run_time_value:
        value = Input("value", (), dtype, low, high)
        layer = PadValue(pad)
        return program(draw, layer, [x, value], dict(zip(names, shape)), dynamic, attrs)
    # pd_op.full keeps the value in float32 while eager Paddle pads with the double, so
    # only float32-exact values agree on float64 (-2.7 would differ by 5e-8).
    attrs["value"] = value = draw(st.sampled_from([0.0, 1.5, -2.75]))
    attrs["pad_from_left_axis"] = left = draw(st.booleans())
    layer = Pad(pad, mode="constant", value=value, pad_from_left_axis=left)
    return program(draw, layer, [x], dict(zip(names, shape)), dynamic, attrs)


CASES += [
    OpCase(
        "pd_op.pad3d",
        "modes",
        pad3d_programs(),
        "paddle.nn.functional.pad / paddle.nn.Pad1D / Pad2D / Pad3D",
    ),
    OpCase(
        "pd_op.pad3d",
        "paddings_run_time",
        pad3d_run_time_programs(),
        "paddle.nn.functional.pad(pad=Tensor)",
    ),
    OpCase(
        "pd_op.pad",
        "constant",
        pad_programs(),
        "paddle.nn.functional.pad (a pad for every dim)",
    ),
    OpCase(
        "pd_op.pad",
        "value_run_time",
        pad_programs(run_time_value=True),
        "paddle.nn.functional.pad(value=Tensor)",
    ),
]

# --- pixel and channel shuffles, flip, roll --------------------------------------------------


@st.composite
def shuffle_programs(draw, kind):
    """Draw nn.PixelShuffle / PixelUnshuffle / ChannelShuffle in either layout."""
    last = draw(st.booleans())
    factor = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    k = draw(st.integers(1, 2))
    sizes = {"n": draw(st.integers(1, 2)), "h": draw(st.integers(1, 3))}
    sizes["w"] = draw(st.integers(1, 3))
    names = ["n", "h", "w"]
    fmt = "NHWC" if last else "NCHW"
    if kind == "pixel_shuffle":
        channels, layer = factor * factor * k, paddle.nn.PixelShuffle(factor, fmt)
    elif kind == "pixel_unshuffle":
        # Paddle's shape inference needs static spatial dims divisible by the factor.
        channels, layer = k, paddle.nn.PixelUnshuffle(factor, fmt)
        sizes["h"], sizes["w"] = factor * sizes["h"], factor * sizes["w"]
        names = ["n"]
    else:
        channels, layer = factor * k, paddle.nn.ChannelShuffle(factor, fmt)
    shape = ("n", "h", "w", channels) if last else ("n", channels, "h", "w")
    dynamic = dynamic_subset(draw, names)
    attrs = dict(factor=factor, channels=channels, data_format=fmt, dtype=dtype)
    return program(draw, layer, [Input("x", shape, dtype)], sizes, dynamic, attrs)


class Flip(paddle.nn.Layer):
    def __init__(self, axis):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return paddle.flip(x, self.axis)


class Roll(paddle.nn.Layer):
    def __init__(self, shifts, axis):
        super().__init__()
        self.shifts, self.axis = shifts, axis

    def forward(self, x):
        return paddle.roll(x, self.shifts, self.axis)


_ANY_DTYPES = ("float32", "float64", "int32", "int64", "bool")


@st.composite
def flip_roll_programs(draw, kind):
    """Draw paddle.flip / paddle.roll on a rank 1-4 tensor; axes negative or repeated."""
    shape = draw(shapes(1, 4, 1, 4))
    rank = len(shape)
    names = tuple(f"d{i}" for i in range(rank))
    dynamic = dynamic_subset(draw, names)
    dtype = draw(st.sampled_from(_ANY_DTYPES))
    axis_strategy = st.integers(-rank, rank - 1)
    if kind == "flip":
        axis = draw(st.lists(axis_strategy, min_size=1, max_size=rank, unique=True))
        layer, attrs = Flip(axis if len(axis) > 1 else axis[0]), dict(axis=axis)
    elif draw(st.booleans()):
        shifts = draw(st.integers(-6, 6))
        layer, attrs = Roll(shifts, None), dict(shifts=shifts, axis=None)
    else:
        axis = draw(st.lists(axis_strategy, min_size=1, max_size=3))
        shifts = [draw(st.integers(-6, 6)) for _ in axis]
        layer, attrs = Roll(shifts, axis), dict(shifts=shifts, axis=axis)
    x = Input("x", names, dtype, *_VALUE_RANGES.get(dtype, (-4.0, 4.0)))
    return program(
        draw, layer, [x], dict(zip(names, shape)), dynamic, {**attrs, "dtype": dtype}
    )


CASES += [
    OpCase(
        "pd_op.pixel_shuffle",
        "any",
        shuffle_programs("pixel_shuffle"),
        "paddle.nn.PixelShuffle / F.pixel_shuffle",
    ),
    OpCase(
        "pd_op.pixel_unshuffle",
        "any",
        shuffle_programs("pixel_unshuffle"),
        "paddle.nn.PixelUnshuffle / F.pixel_unshuffle",
    ),
    OpCase(
        "pd_op.channel_shuffle",
        "any",
        shuffle_programs("channel_shuffle"),
        "paddle.nn.ChannelShuffle / F.channel_shuffle",
    ),
    OpCase("pd_op.flip", "axes", flip_roll_programs("flip"), "paddle.flip"),
    OpCase("pd_op.roll", "shifts", flip_roll_programs("roll"), "paddle.roll"),
]

# --- sampling grids and patches --------------------------------------------------------------


class AffineGrid(paddle.nn.Layer):
    def __init__(self, out_shape, align_corners):
        super().__init__()
        self.out_shape, self.align_corners = out_shape, align_corners

    def forward(self, theta):
        return F.affine_grid(theta, self.out_shape, align_corners=self.align_corners)


class GridSample(paddle.nn.Layer):
    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = kwargs

    def forward(self, x, grid):
        return F.grid_sample(x, grid, **self.kwargs)


class Unfold(paddle.nn.Layer):
    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = kwargs

    def forward(self, x):
        return F.unfold(x, **self.kwargs)


@st.composite
def affine_grid_programs(draw):
    """Draw F.affine_grid for 2-D or 3-D grids; size-1 dims with align_corners give NaN
    in Paddle (a step of 2 / 0), and the export must agree."""
    n = draw(st.integers(2, 3))
    batch = draw(st.integers(1, 2))
    out_shape = [batch, draw(st.integers(1, 3))] + [draw(st.integers(1, 4)) for _ in range(n)]
    align_corners = draw(st.booleans())
    dtype = draw(st.sampled_from(["float32", "float64"]))
    layer = AffineGrid(out_shape, align_corners)
    theta = Input("theta", (batch, n, n + 1), dtype, -2.0, 2.0)
    attrs = dict(out_shape=out_shape, align_corners=align_corners, dtype=dtype)
    return program(draw, layer, [theta], {}, (), attrs)


@st.composite
def grid_sample_programs(draw, rank=4):
    """Draw F.grid_sample with grid points on a 1/8 lattice past [-1, 1], so samples
    land exactly on pixel centres and halfway between them, where rounding shows."""
    mode = draw(st.sampled_from(["bilinear", "nearest"]))
    padding = draw(st.sampled_from(["zeros", "border", "reflection"]))
    align_corners = draw(st.booleans())
    spatial = [f"s{i}" for i in range(rank - 2)]
    grid_dims = [f"g{i}" for i in range(rank - 2)]
    sizes = {"n": draw(st.integers(1, 2)), "c": draw(st.integers(1, 2))}
    sizes.update({d: draw(st.integers(1, 4)) for d in spatial + grid_dims})
    dynamic = dynamic_subset(draw, ["n", *spatial, *grid_dims])
    x = Input("x", ("n", "c", *spatial))
    lattice = st.integers(-10, 10).map(lambda k: k / 8)
    grid = Input("grid", ("n", *grid_dims, rank - 2), elements=lattice)
    layer = GridSample(mode=mode, padding_mode=padding, align_corners=align_corners)
    attrs = dict(mode=mode, padding_mode=padding, align_corners=align_corners)
    return program(draw, layer, [x, grid], sizes, dynamic, attrs)


@st.composite
def unfold_programs(draw):
    """Draw F.unfold over kernel sizes, strides, paddings (1, 2 or 4 values) and
    dilations; a dynamic spatial dim keeps room for the dilated kernel at size 1."""
    kernel = [draw(st.integers(1, 3)) for _ in range(2)]
    strides = [draw(st.integers(1, 2)) for _ in range(2)]
    dilations = [draw(st.integers(1, 2)) for _ in range(2)]
    paddings = draw(
        st.one_of(
            st.integers(0, 2),
            st.lists(st.integers(0, 2), min_size=2, max_size=2),
            st.lists(st.integers(0, 2), min_size=4, max_size=4),
        )
    )
    four = [paddings] * 4 if isinstance(paddings, int) else paddings * (4 // len(paddings))
    sizes = {"n": draw(st.integers(1, 2)), "c": draw(st.integers(1, 3))}
    dynamic = dynamic_subset(draw, ["n", "c"])
    for axis, dim in enumerate(("h", "w")):
        span = dilations[axis] * (kernel[axis] - 1) + 1
        pad = four[axis] + four[axis + 2]
        sizes[dim] = max(draw(st.integers(1, 5)), span - pad)
        if 1 + pad >= span and draw(st.booleans()):
            dynamic.append(dim)
    layer = Unfold(
        kernel_sizes=kernel, strides=strides, paddings=paddings, dilations=dilations
    )
    dtype = draw(st.sampled_from(["float32", "float64"]))
    attrs = dict(kernel=kernel, strides=strides, paddings=paddings, dilations=dilations)
    return program(
        draw, layer, [Input("x", ("n", "c", "h", "w"), dtype)], sizes, dynamic, attrs
    )


CASES += [
    OpCase(
        "pd_op.affine_grid", "any", affine_grid_programs(), "paddle.nn.functional.affine_grid"
    ),
    OpCase(
        "pd_op.grid_sample", "4d", grid_sample_programs(), "paddle.nn.functional.grid_sample"
    ),
    OpCase(
        "pd_op.grid_sample",
        "5d",
        grid_sample_programs(rank=5),
        "paddle.nn.functional.grid_sample",
        min_opset=20,
    ),
    OpCase(
        "pd_op.grid_sample",
        "5d_before_20",
        grid_sample_programs(rank=5),
        "paddle.nn.functional.grid_sample",
        xfail="a 5-D grid_sample needs GridSample-20",
        max_opset=19,
    ),
    OpCase(
        "pd_op.unfold", "any", unfold_programs(), "paddle.nn.functional.unfold / nn.Unfold"
    ),
]

test_vision = case_tests(CASES)
