"""Seeded random-weight models shared by the model cases and the saved-model tests."""

from __future__ import annotations

import warnings

import numpy as np
import paddle
from paddle.nn.layer.norm import _BatchNormBase


def seeded_layer(make, shape, seed: int):
    """Build ``make()`` with repeatable weights and names; return (layer in eval, rng).

    ``shape`` is the input shape (None for dynamic dims) used to calibrate batch norms;
    the returned numpy generator continues from that calibration, for drawing inputs.
    """
    paddle.seed(seed)
    with paddle.utils.unique_name.guard():
        layer = make()
    rng = np.random.default_rng(seed)
    calibrate_batch_norms(layer, shape, rng)
    layer.eval()
    return layer, rng


def calibrate_batch_norms(layer, shape, rng) -> None:
    """Give every batch norm random affine weights and statistics measured on real inputs.

    Fresh batch norms are the identity (mean 0, variance 1, scale 1, shift 0), so with
    random conv weights the signal fades or grows layer after layer: mobilenet_v2's logits
    came out near 1e-7 (any atol passes) and resnet18's near 100. Statistics measured on a
    random batch keep every layer's output near unit scale, as in a trained network, and
    make the mapping's use of mean, variance, scale and shift show in the outputs.
    """
    norms = [m for m in layer.sublayers() if isinstance(m, _BatchNormBase)]
    if not norms:
        return
    for bn in norms:
        n = bn.weight.shape[0]
        bn.weight.set_value(rng.uniform(0.5, 1.5, n).astype("float32"))
        bn.bias.set_value(rng.normal(0.0, 0.2, n).astype("float32"))
    # Momentum 0 makes one training-mode pass store that batch's statistics; only the
    # norms run in training mode, so dropout stays off.
    layer.eval()
    momenta = [bn._momentum for bn in norms]
    try:
        for bn in norms:
            bn._momentum = 0.0
            bn.train()
        batch = [2 if d is None else d for d in shape]
        # Paddle warns that training mode tracks statistics: that is the point here.
        with paddle.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            layer(paddle.to_tensor(rng.standard_normal(batch).astype("float32")))
    finally:
        for bn, momentum in zip(norms, momenta):
            bn._momentum = momentum
