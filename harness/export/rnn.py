"""Recurrent layers: ``pd_op.rnn`` (paddle.nn.LSTM, GRU and SimpleRNN) to ONNX LSTM/GRU/RNN.

Paddle's op runs every layer and direction in one kernel on a time-major input
([seq, batch, input]; a batch-major layer transposes before and after it). Its operands
are the input, the initial states as a list ([h0] or [h0, c0], each
[num_layers * num_directions, batch, hidden]), and a weight list holding first every
(weight_ih, weight_hh) pair, layer by layer and forward before reverse, then every
(bias_ih, bias_hh) pair in the same order. ONNX's recurrent ops do one layer each, so
the layers are chained and their final states concatenated.
"""

import numpy as np

from harness.export.registry import Unsupported, register
from harness.export.tensor import publish_list

# ONNX op, Paddle's gate blocks in ONNX's order, the ONNX attributes, and the number of
# states. Paddle's cells split their gates as LSTM [i, f, g, o] and GRU [r, z, c]; ONNX
# wants LSTM [i, o, f, c] and GRU [z, r, h]. Paddle's GRU applies the reset gate after
# the recurrent matmul and its bias, r * (W_hc h + b_hc): ONNX's linear_before_reset=1.
_MODES = {
    "LSTM": ("LSTM", [0, 3, 1, 2], {}, 2),
    "GRU": ("GRU", [1, 0, 2], {"linear_before_reset": 1}, 1),
    "RNN_TANH": ("RNN", [0], {"activations": ["Tanh"]}, 1),
    "RNN_RELU": ("RNN", [0], {"activations": ["Relu"]}, 1),
}


# Paddle's CPU kernel also runs float64; casting to float32 would change the numbers.
FLOAT32_ONLY = "ONNX Runtime's LSTM, GRU and RNN kernels run float32 only"


def _weights(ctx, op) -> list[np.ndarray]:
    names = ctx.graph.lists.get(op.input("weight_list"))
    if names is None:
        raise Unsupported("weight_list is not a list built by builtin.combine")
    missing = [n for n in names if n not in ctx.graph.params]
    if missing:
        raise Unsupported(f"weights {missing} are computed at run time, not parameters")
    return [ctx.graph.params[n] for n in names]


def _gates(array: np.ndarray, order: list[int]) -> np.ndarray:
    """Reorder the gate blocks along axis 0 (weights [G*H, in], biases [G*H])."""
    return np.concatenate([np.split(array, len(order))[k] for k in order])


def _layer_tensors(ctx, weights, layer: int, dirs: int, order: list[int]):
    """Return the ONNX W, R and B initializers of one layer, directions stacked."""
    n = len(weights) // 2
    pairs = [(layer * dirs + d) * 2 for d in range(dirs)]
    w = np.stack([_gates(weights[k], order) for k in pairs])
    r = np.stack([_gates(weights[k + 1], order) for k in pairs])
    b = np.stack(
        [
            np.concatenate([_gates(weights[n + k], order), _gates(weights[n + k + 1], order)])
            for k in pairs
        ]
    )
    return [ctx.const_tensor(t, hint=f"rnn_l{layer}_{c}") for t, c in zip((w, r, b), "WRB")]


def _layer_states(ctx, states: list[str], layer: int, dirs: int, layers: int) -> list[str]:
    if layers == 1:
        return states
    bounds = [ctx.int64s([layer * dirs]), ctx.int64s([(layer + 1) * dirs]), ctx.int64s([0])]
    return [ctx.node("Slice", [s, *bounds]) for s in states]


@register("pd_op.rnn")
def rnn(ctx, op):
    """Map to one ONNX LSTM, GRU or RNN per layer, chained.

    Honours ``mode`` (LSTM, GRU, RNN_TANH, RNN_RELU), ``num_layers``, ``is_bidirec``,
    ``hidden_size`` and the optional ``sequence_length`` operand (ONNX sequence_lens).
    ``dropout_prob`` between layers is ignored when ``is_test`` (inference); training
    dropout is rejected. Weights must be parameters: their gate blocks are reordered into
    new initializers. Only float32 runs (see FLOAT32_ONLY).
    """
    attrs = op.attrs
    if attrs["mode"] not in _MODES:
        raise Unsupported(f"mode={attrs['mode']!r} is not one of {sorted(_MODES)}")
    if not attrs.get("is_test", False) and attrs.get("dropout_prob", 0.0) > 0:
        raise Unsupported("dropout between layers in training mode is random")
    if ctx.dtype(op, "x") != "float32":
        raise Unsupported(FLOAT32_ONLY)
    onnx_op, order, extra, n_states = _MODES[attrs["mode"]]
    layers, hidden = attrs["num_layers"], attrs["hidden_size"]
    dirs = 2 if attrs["is_bidirec"] else 1
    weights = _weights(ctx, op)
    states = ctx.input_list(op, "pre_state")
    if len(weights) != 4 * layers * dirs or len(states) != n_states:
        # Layers built with bias_ih_attr/bias_hh_attr=False list fewer tensors; Paddle
        # 3.3.1 fails building most of them and crashes running the rest.
        raise Unsupported(
            f"expected {4 * layers * dirs} weights and biases and {n_states} states, "
            f"got {len(weights)} and {len(states)}"
        )
    lens = ctx.optional_input(op, "sequence_length")
    if lens is not None:
        lens = ctx.cast(lens, "int32")
    if dirs == 2 and "activations" in extra:
        # A bidirectional RNN lists one activation per direction.
        extra = {**extra, "activations": extra["activations"] * 2}

    x, finals = ctx.input(op, "x"), []
    for layer in range(layers):
        w, r, b = _layer_tensors(ctx, weights, layer, dirs, order)
        init = _layer_states(ctx, states, layer, dirs, layers)
        y, *last = ctx.node(
            onnx_op,
            [x, w, r, b, lens, *init],
            1 + n_states,
            hidden_size=hidden,
            direction="bidirectional" if dirs == 2 else "forward",
            **extra,
        )
        finals.append(last)
        # Y is [seq, dirs, batch, hidden]; Paddle concatenates the directions per step.
        out = [ctx.out(op, 0)] if layer == layers - 1 else 1
        y = ctx.node("Transpose", [y], perm=[0, 2, 1, 3])
        x = ctx.node("Reshape", [y, ctx.int64s([0, 0, -1])], out)

    if layers == 1:
        publish_list(ctx, op.outputs[2], finals[0])
        return
    joined = [ctx.node("Concat", [f[k] for f in finals], axis=0) for k in range(n_states)]
    publish_list(ctx, op.outputs[2], joined)
