"""Real architectures with random weights, exported and verified end to end.

Every model is built by ``zoo.seeded_layer`` (seeded weights, repeatable parameter names,
calibrated batch norms); its inputs come from the same seeded numpy generator. Dynamic dims are verified at several sizes (batch 1 and 3 at least).

Tolerances are float32 ``(atol, rtol)``, measured and kept tight: the comment at each case
says what was measured and why the bound is what it is.
"""

from __future__ import annotations

import paddle
from paddle.static import InputSpec

from harness.cases import CaseProgram, ModelCase, model_tests
from model_cases.zoo import seeded_layer

BATCHES = (1, 3)


def _program(make, shape, seed, sizes=None, attrs=None) -> CaseProgram:
    """Build ``make()`` with seeded weights; inputs of ``shape`` at each size of its Nones.

    ``sizes`` lists one tuple per input set, giving a size to each None of ``shape`` in
    order; by default the only None is the batch, run at 1 and 3.
    """
    layer, rng = seeded_layer(make, shape, seed)
    sizes = sizes or [(b,) for b in BATCHES]
    input_sets = []
    for fill in sizes:
        dims = iter(fill)
        concrete = [d if d is not None else next(dims) for d in shape]
        input_sets.append([rng.standard_normal(concrete).astype("float32")])
    spec = InputSpec(list(shape), "float32", "x")
    return CaseProgram(layer, [spec], input_sets, attrs or {}, seed)


def _vision(name: str, spatial: int, seed: int, **kwargs):
    def build() -> CaseProgram:
        make = getattr(paddle.vision.models, name)
        return _program(
            lambda: make(**kwargs), [None, 3, spatial, spatial], seed, attrs={"hw": spatial}
        )

    return build


def _linear() -> CaseProgram:
    # The seed example of Paddle's ONNX guide: one Linear layer, dynamic batch.
    return _program(lambda: paddle.nn.Linear(784, 10), [None, 784], seed=0)


def _lenet() -> CaseProgram:
    return _program(paddle.vision.models.LeNet, [None, 1, 28, 28], seed=1)


def _transformer() -> CaseProgram:
    # Dynamic batch and sequence; sequence 1 is the edge where softmax sees one key.
    return _program(
        lambda: paddle.nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64),
        [None, None, 32],
        seed=7,
        sizes=[(1, 5), (3, 7), (2, 1)],
    )


# Retire when these ops have mappings (shape64 .. full_with_tensor come from the dynamic
# batch: the zero initial states are built at run time from the input's shape).
def _lstm() -> CaseProgram:
    # Inputs are [batch, time, features]; outputs are (out, (h, c)), flattened in order.
    return _program(
        lambda: paddle.nn.LSTM(16, 32, num_layers=2),
        [None, None, 16],
        seed=8,
        sizes=[(1, 4), (3, 6)],
    )


# Measured errors (max abs; t = the smallest atol = rtol that passes) are on the CPU
# provider at opset 17, paddle 3.3.1, onnxruntime 1.32. Most of the spread in the CNNs is
# ONNX Runtime folding each batch norm into the conv before it: the weights are rounded
# once more and the sums run in another order, and that compounds with depth. Bounds are
# about 4x the measured t, so a change in rounding order passes and a wrong op does not.
CASES = [
    # max abs 1.4e-6, t 6.2e-7 (outputs up to 3.8): the default (1e-5, 1e-5).
    ModelCase("linear", _linear, "paddle.nn.Linear(784, 10)"),
    # max abs 5.2e-6, t 5.1e-6 (outputs up to 7.6; no batch norm to calibrate, so the
    # logits are larger than in the other models and carry larger absolute error).
    ModelCase(
        "lenet",
        _lenet,
        "paddle.vision.models.LeNet()",
        tolerances={"float32": (2e-5, 2e-5)},
    ),
    # At 224x224 as the issue asks, batch 1 and 3: max abs 3.8e-6, t 2.4e-6 (outputs up
    # to 3.0), so the default (1e-5, 1e-5) holds, ten times tighter than the 1e-4 asked.
    ModelCase(
        "resnet18",
        _vision("resnet18", 224, seed=2),
        "paddle.vision.models.resnet18()",
        tolerances={"float32": (1e-5, 1e-5)},
    ),
    # 52 batch norms and 17 depthwise convs: max abs 1.2e-5, t 9.8e-6 (outputs up to 2.3).
    ModelCase(
        "mobilenet_v2",
        _vision("mobilenet_v2", 224, seed=3),
        "paddle.vision.models.mobilenet_v2()",
        tolerances={"float32": (4e-5, 4e-5)},
    ),
    # Hardswish, hardsigmoid and squeeze-excite multiplies: max abs 1.9e-6, t 1.1e-6.
    ModelCase(
        "mobilenet_v3_small",
        _vision("mobilenet_v3_small", 224, seed=4),
        "paddle.vision.models.mobilenet_v3_small()",
        tolerances={"float32": (1e-5, 1e-5)},
    ),
    # No batch norm; concat of the fire modules: max abs 1.7e-6, t 3.7e-7.
    ModelCase(
        "squeezenet1_0",
        _vision("squeezenet1_0", 224, seed=5),
        "paddle.vision.models.squeezenet1_0()",
        tolerances={"float32": (1e-5, 1e-5)},
    ),
    # Channel shuffle (reshape, transpose, split, concat): max abs 9.9e-6, t 8.0e-6.
    ModelCase(
        "shufflenet_v2_x0_25",
        _vision("shufflenet_v2_x0_25", 224, seed=6),
        "paddle.vision.models.shufflenet_v2_x0_25()",
        tolerances={"float32": (3e-5, 3e-5)},
    ),
    # Dynamic batch and sequence: max abs 6.0e-7, t 3.8e-7 (outputs up to 3.2).
    ModelCase(
        "transformer_encoder_layer",
        _transformer,
        "paddle.nn.TransformerEncoderLayer(32, 4, 64)",
        tolerances={"float32": (1e-5, 1e-5)},
    ),
    # The same two at low opsets, where their mappings take other variants (layer_norm and
    # softmax decompose below 17 and 13, hardswish below 14): max abs 6.0e-7, t 3.8e-7 and
    # max abs 1.6e-6, t 9.7e-7, as at opset 17.
    ModelCase(
        "transformer_encoder_layer_opset11",
        _transformer,
        "paddle.nn.TransformerEncoderLayer(32, 4, 64)",
        tolerances={"float32": (1e-5, 1e-5)},
        opset=11,
    ),
    ModelCase(
        "mobilenet_v3_small_opset13",
        _vision("mobilenet_v3_small", 224, seed=4),
        "paddle.vision.models.mobilenet_v3_small()",
        tolerances={"float32": (1e-5, 1e-5)},
        opset=13,
    ),
    ModelCase(
        "lstm_2layer",
        _lstm,
        # Measured max abs 1.3e-7 (dynamic batch and time): default tolerances hold.
        "paddle.nn.LSTM(16, 32, num_layers=2)",
    ),
]

test_models = model_tests(CASES)
