"""Fuzz the exporter with random small programs composed from the supported ops.

Hypothesis draws a recipe: one or two inputs, then a chain of steps, each applying a
mapped op to earlier values with compatible shapes (so branches join again through
binary ops, concat, stack and where). Each program must export and verify, or fail with
UnsupportedOpsError (a declared gap); anything else is a finding: a crash, another error,
or a model ONNX Runtime and Paddle disagree on.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import paddle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paddle.static import InputSpec

from harness import export
from harness.errors import UnsupportedOpsError
from harness.export import registry
from harness.isolation import run_in_child

MAX_NUMEL = 240
MAX_STEPS = 7

# --- what each step does, at trace time --------------------------------------------------


@paddle.jit.not_to_static
def _apply(step, values, layer):
    """Run one recipe step on the traced values (plain Python: not converted)."""
    op, args, attrs = step
    xs = [values[i] for i in args]
    F = paddle.nn.functional
    if op in _UNARY:
        return getattr(F, op)(xs[0]) if hasattr(F, op) else getattr(paddle, op)(xs[0])
    if op == "sqrt":
        return paddle.sqrt(paddle.abs(xs[0]))
    if op == "scale":
        return paddle.scale(xs[0], attrs["scale"], attrs["bias"])
    if op in ("softmax", "log_softmax"):
        return getattr(F, op)(xs[0], axis=attrs["axis"])
    if op in ("add", "subtract", "multiply"):
        other = xs[1] if len(xs) > 1 else getattr(layer, attrs["param"])
        return getattr(paddle, op)(xs[0], other)
    if op == "divide":
        return paddle.divide(xs[0], paddle.abs(xs[1]) + 1.0)
    if op == "matmul":
        return paddle.matmul(xs[0], getattr(layer, attrs["param"]))
    if op == "reshape":
        return paddle.reshape(xs[0], attrs["shape"])
    if op == "flatten":
        return paddle.flatten(xs[0], attrs["start"], attrs["stop"])
    if op == "transpose":
        return paddle.transpose(xs[0], attrs["perm"])
    if op == "unsqueeze":
        return paddle.unsqueeze(xs[0], attrs["axis"])
    if op == "squeeze":
        return paddle.squeeze(xs[0], attrs["axis"])
    if op in ("sum", "mean", "max", "min"):
        return getattr(paddle, op)(xs[0], axis=attrs["axis"], keepdim=attrs["keepdim"])
    if op == "concat":
        return paddle.concat(xs, axis=attrs["axis"])
    if op == "stack":
        return paddle.stack(xs, axis=attrs["axis"])
    if op == "split":
        return paddle.split(xs[0], 2, axis=attrs["axis"])[attrs["half"]]
    if op == "slice":
        return paddle.slice(xs[0], [attrs["axis"]], [attrs["start"]], [attrs["end"]])
    if op == "where":
        return paddle.where(xs[0] > xs[1], xs[0], xs[1])
    raise AssertionError(op)


_UNARY = (
    "relu",
    "sigmoid",
    "tanh",
    "abs",
    "exp",
    "gelu",
    "silu",
    "elu",
    "leaky_relu",
    "hardswish",
    "hardsigmoid",
    "relu6",
)
# The PIR ops each step produces: a step is drawn only when all of them are mapped.
_PRODUCES = {
    **{op: ("pd_op." + op,) for op in _UNARY},
    "sqrt": ("pd_op.abs", "pd_op.sqrt"),
    "scale": ("pd_op.scale",),
    "softmax": ("pd_op.softmax",),
    "log_softmax": ("pd_op.log_softmax",),
    "add": ("pd_op.add",),
    "subtract": ("pd_op.subtract",),
    "multiply": ("pd_op.multiply",),
    "divide": ("pd_op.abs", "pd_op.scale", "pd_op.divide"),
    "matmul": ("pd_op.matmul",),
    "reshape": ("pd_op.reshape",),
    "flatten": ("pd_op.flatten",),
    "transpose": ("pd_op.transpose",),
    "unsqueeze": ("pd_op.unsqueeze",),
    "squeeze": ("pd_op.squeeze",),
    "sum": ("pd_op.sum",),
    "mean": ("pd_op.mean",),
    "max": ("pd_op.max",),
    "min": ("pd_op.min",),
    "concat": ("pd_op.concat", "builtin.combine"),
    "stack": ("pd_op.stack", "builtin.combine"),
    "split": ("pd_op.split_with_num", "builtin.split"),
    "slice": ("pd_op.slice",),
    "where": ("pd_op.greater_than", "pd_op.where"),
}


class _Recipe1(paddle.nn.Layer):
    def __init__(self, steps, params, outputs):
        super().__init__()
        self.steps, self.outputs = steps, outputs
        for name, value in params.items():
            init = paddle.nn.initializer.Assign(value)
            setattr(
                self, name, self.create_parameter(list(value.shape), default_initializer=init)
            )

    def forward(self, x0):
        return _run(self, [x0])


class _Recipe2(_Recipe1):
    def forward(self, x0, x1):
        return _run(self, [x0, x1])


@paddle.jit.not_to_static
def _run(layer, values):
    for step in layer.steps:
        values.append(_apply(step, values, layer))
    return tuple(values[i] for i in layer.outputs)


# --- drawing a recipe --------------------------------------------------------------------


def _numel(shape) -> int:
    return math.prod(shape)


@st.composite
def recipes(draw):
    """Draw (inputs, steps, params, outputs); every shape is tracked as it is drawn."""
    mapped = set(registry())
    usable = [op for op, needs in _PRODUCES.items() if set(needs) <= mapped]
    shape_st = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)
    first = draw(shape_st.filter(lambda s: _numel(s) <= MAX_NUMEL))
    shapes = [first]
    if draw(st.booleans()):
        shapes.append(draw(st.sampled_from([first, first[1:] or first, first[-1:]])))
    n_inputs = len(shapes)
    steps, params = [], {}
    for _ in range(draw(st.integers(1, MAX_STEPS))):
        op = draw(st.sampled_from(usable))
        made = _step(draw, op, shapes, params)
        if made is None:
            continue
        step, shape = made
        steps.append(step)
        shapes.append(shape)
    if not steps:
        steps.append(("relu", [len(shapes) - 1], {}))
        shapes.append(shapes[-1])
    last = len(shapes) - 1
    extra = draw(st.sampled_from(range(n_inputs, last + 1)))
    outputs = [last] if extra == last else [last, extra]
    return shapes[:n_inputs], steps, params, outputs


def _pick(draw, shapes, ok=lambda s: True):
    choices = [i for i, s in enumerate(shapes) if ok(s)]
    return draw(st.sampled_from(choices)) if choices else None


def _step(draw, op, shapes, params):  # noqa: C901  (one branch per op, kept together)
    i = _pick(draw, shapes)
    s = shapes[i]
    rank = len(s)
    if op in _UNARY or op == "sqrt":
        return (op, [i], {}), s
    if op == "scale":
        attrs = {"scale": draw(st.sampled_from([0.5, 2.0, -1.0])), "bias": 0.25}
        return (op, [i], attrs), s
    if op in ("softmax", "log_softmax"):
        return (op, [i], {"axis": draw(st.integers(-rank, rank - 1))}), s
    if op in ("add", "subtract", "multiply", "divide", "where"):
        j = _pick(draw, shapes, lambda t: t == s or t == s[len(s) - len(t) :])
        if j is not None and j != i and draw(st.booleans()):
            return (op, [i, j], {}), s
        if op in ("divide", "where"):
            return None
        name = f"p{len(params)}"
        tail = s[draw(st.integers(0, rank)) :]
        params[name] = (
            np.random.default_rng(len(params)).uniform(-1, 1, tail).astype("float32")
        )
        return (op, [i], {"param": name}), s
    if op == "matmul":
        if rank < 1:
            return None
        n = draw(st.integers(1, 5))
        name = f"p{len(params)}"
        params[name] = (
            np.random.default_rng(len(params)).uniform(-1, 1, [s[-1], n]).astype("float32")
        )
        out = s[:-1] + (n,)
        return ((op, [i], {"param": name}), out) if _numel(out) <= MAX_NUMEL else None
    if op == "reshape":
        numel = _numel(s)
        a = draw(st.sampled_from([d for d in range(1, numel + 1) if numel % d == 0]))
        shape = draw(st.sampled_from([[numel], [a, numel // a], [-1, a]]))
        out = tuple(numel // a if d == -1 else d for d in shape)
        return (op, [i], {"shape": shape}), out
    if op == "flatten":
        start = draw(st.integers(0, rank - 1))
        stop = draw(st.integers(start, rank - 1))
        out = s[:start] + (_numel(s[start : stop + 1]),) + s[stop + 1 :]
        return (op, [i], {"start": start, "stop": stop}), out
    if op == "transpose":
        perm = draw(st.permutations(range(rank)))
        return (op, [i], {"perm": list(perm)}), tuple(s[p] for p in perm)
    if op == "unsqueeze":
        if rank >= 4:
            return None
        axis = draw(st.integers(0, rank))
        return (op, [i], {"axis": axis}), s[:axis] + (1,) + s[axis:]
    if op == "squeeze":
        ones = [a for a, d in enumerate(s) if d == 1]
        if not ones or rank == 1:
            return None
        axis = draw(st.sampled_from(ones))
        return (op, [i], {"axis": axis}), s[:axis] + s[axis + 1 :]
    if op in ("sum", "mean", "max", "min"):
        if rank == 1:
            return None
        axis, keep = draw(st.integers(0, rank - 1)), draw(st.booleans())
        out = s[:axis] + ((1,) if keep else ()) + s[axis + 1 :]
        return (op, [i], {"axis": axis, "keepdim": keep}), out
    if op in ("concat", "stack"):
        j = _pick(draw, shapes, lambda t: t == s)
        axis = draw(st.integers(0, rank if op == "stack" else rank - 1))
        if op == "concat":
            out = s[:axis] + (s[axis] * 2,) + s[axis + 1 :]
        else:
            out = s[:axis] + (2,) + s[axis:]
        if rank >= 4 and op == "stack" or _numel(out) > MAX_NUMEL:
            return None
        return (op, [i, j], {"axis": axis}), out
    if op == "split":
        even = [a for a, d in enumerate(s) if d % 2 == 0]
        if not even:
            return None
        axis = draw(st.sampled_from(even))
        out = s[:axis] + (s[axis] // 2,) + s[axis + 1 :]
        return (op, [i], {"axis": axis, "half": draw(st.integers(0, 1))}), out
    if op == "slice":
        axis = draw(st.integers(0, rank - 1))
        if s[axis] < 2:
            return None
        start = draw(st.integers(0, s[axis] - 1))
        end = draw(st.integers(start + 1, s[axis]))
        out = s[:axis] + (end - start,) + s[axis + 1 :]
        return (op, [i], {"axis": axis, "start": start, "end": end}), out
    raise AssertionError(op)


def _export(recipe, path) -> str:
    inputs, steps, params, outputs = recipe
    cls = _Recipe1 if len(inputs) == 1 else _Recipe2
    layer = cls(steps, params, outputs)
    specs = [InputSpec(list(s), "float32", f"x{k}") for k, s in enumerate(inputs)]
    return export(layer, path, input_spec=specs).summary()


_PROFILE = settings()


@given(recipe=recipes())
@settings(
    max_examples=max(30, 3 * _PROFILE.max_examples),
    deadline=None,
    # The recorder and the folder serve every example alike; nothing is reset between.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_random_programs_export_and_verify_or_fail_as_declared(
    recipe, reliability, tmp_path_factory
):
    path = str(tmp_path_factory.mktemp("fuzz") / "m")
    outcome = run_in_child(_export, recipe, path, timeout=300)
    declared = outcome.kind == "returned" or outcome.raised(UnsupportedOpsError)
    status = "crash" if outcome.crashed else ("pass" if declared else "wrong")
    steps = ", ".join(step[0] for step in recipe[1])
    digest = hashlib.sha1(repr(recipe).encode()).hexdigest()[:6]
    reliability.record(
        "fuzz",
        f"inputs {recipe[0]}: {steps} ({digest})",
        "exports and verifies, or UnsupportedOpsError",
        outcome.describe(),
        status,
    )
    assert not outcome.crashed, f"{outcome.describe()} on {recipe}"
    assert declared, f"{recipe}\n{outcome.describe()}\n{outcome.traceback[-3000:]}"
