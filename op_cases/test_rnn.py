"""Cases for harness/export/rnn.py: paddle.nn.LSTM, GRU and SimpleRNN (pd_op.rnn)."""

import numpy as np
import paddle
from hypothesis import strategies as st

from harness.cases import OpCase, case_tests
from harness.cases.strategies import Input, dynamic_subset, program
from harness.export.rnn import FLOAT32_ONLY

_LAYERS = {
    "lstm": lambda i, h, **kw: paddle.nn.LSTM(i, h, **kw),
    "gru": lambda i, h, **kw: paddle.nn.GRU(i, h, **kw),
    "rnn_tanh": lambda i, h, **kw: paddle.nn.SimpleRNN(i, h, activation="tanh", **kw),
    "rnn_relu": lambda i, h, **kw: paddle.nn.SimpleRNN(i, h, activation="relu", **kw),
}


class _Rnn(paddle.nn.Layer):
    """The recurrent layer with zero initial states (built in the program)."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)


class _RnnH(_Rnn):
    """Initial hidden state given as an input (GRU, SimpleRNN)."""

    def forward(self, x, h):
        return self.rnn(x, h)


class _RnnHC(_Rnn):
    """Initial hidden and cell states given as inputs (LSTM)."""

    def forward(self, x, h, c):
        return self.rnn(x, (h, c))


class _RnnLens(_Rnn):
    """Padded batches: steps past each sequence's length are not run."""

    def forward(self, x, lens):
        return self.rnn(x, sequence_length=lens)


class _RnnLensH(_Rnn):
    def forward(self, x, lens, h):
        return self.rnn(x, h, sequence_length=lens)


class _RnnLensHC(_Rnn):
    def forward(self, x, lens, h, c):
        return self.rnn(x, (h, c), sequence_length=lens)


def _set_weights(rnn, seed: int, scale: float) -> None:
    # A seed rather than element-wise draws: a 2-layer bidirectional LSTM has 16
    # parameters. A scale about 0.5 keeps the gates away from saturation.
    rng = np.random.default_rng(seed)
    for p in rnn.parameters():
        dtype = str(p.dtype).rsplit(".", 1)[-1]
        p.set_value(rng.uniform(-scale, scale, p.shape).astype(dtype))


# By (sequence lengths given, number of initial states given).
_WRAPPERS = {
    (False, False): _Rnn,
    (False, 1): _RnnH,
    (False, 2): _RnnHC,
    (True, False): _RnnLens,
    (True, 1): _RnnLensH,
    (True, 2): _RnnLensHC,
}


@st.composite
def rnn_programs(draw, kind, with_lens=False, dtype="float32"):
    size, hidden = draw(st.integers(2, 6)), draw(st.integers(2, 6))
    layers = draw(st.integers(1, 2))
    direction = draw(st.sampled_from(["forward", "bidirect"]))
    time_major = draw(st.booleans())
    # The layers take their parameters' dtype from the process-wide default.
    paddle.set_default_dtype(dtype)
    try:
        rnn = _LAYERS[kind](
            size, hidden, num_layers=layers, direction=direction, time_major=time_major
        )
    finally:
        paddle.set_default_dtype("float32")
    _set_weights(rnn, draw(st.integers(0, 2**16)), 0.5)
    sizes = {"t": draw(st.integers(1, 5)), "n": draw(st.integers(1, 3))}
    # With lengths the steps stay fixed: the drawn lengths must fit every input set.
    dynamic = dynamic_subset(draw, ["n"] if with_lens else ["t", "n"])
    x_shape = ("t", "n", size) if time_major else ("n", "t", size)
    inputs = [Input("x", x_shape, dtype, low=-2.0, high=2.0)]
    states = draw(st.booleans())
    if with_lens:
        inputs.append(Input("lens", ("n",), "int64", 1, sizes["t"]))
    if states:
        state = (layers * (2 if direction == "bidirect" else 1), "n", hidden)
        names = ["h", "c"] if kind == "lstm" else ["h"]
        inputs += [Input(n, state, dtype, low=-1.0, high=1.0) for n in names]
    layer = _WRAPPERS[with_lens, bool(states) and (2 if kind == "lstm" else 1)](rnn)
    attrs = {
        "mode": kind,
        "input_size": size,
        "hidden_size": hidden,
        "num_layers": layers,
        "direction": direction,
        "time_major": time_major,
        "initial_states": bool(states),
        "sequence_length": with_lens,
        "dtype": dtype,
    }
    return program(draw, layer, inputs, sizes, dynamic, attrs)


_API = {
    "lstm": "paddle.nn.LSTM",
    "gru": "paddle.nn.GRU",
    "rnn_tanh": "paddle.nn.SimpleRNN(activation='tanh')",
    "rnn_relu": "paddle.nn.SimpleRNN(activation='relu')",
}

CASES = [OpCase("pd_op.rnn", kind, rnn_programs(kind), api) for kind, api in _API.items()]
CASES += [
    OpCase(
        "pd_op.rnn",
        f"{kind}_sequence_length",
        rnn_programs(kind, with_lens=True),
        f"{api}(x, sequence_length=lens)",
    )
    for kind, api in _API.items()
]
CASES += [
    OpCase(
        "pd_op.rnn",
        f"{kind}_float64",
        rnn_programs(kind, dtype="float64"),
        f"{api} with float64 parameters",
        xfail=FLOAT32_ONLY,
    )
    for kind, api in _API.items()
]

test_rnn = case_tests(CASES)
