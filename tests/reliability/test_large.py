"""Weights past protobuf's 2 GiB limit: written as external data, loaded back, verified."""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import onnx
import onnxruntime as ort
import paddle
import pytest
from hypothesis import settings
from paddle.static import InputSpec

from harness import export, io


class _Chain(paddle.nn.Layer):
    """x @ w0 @ w1 @ ...: a few large parameters, a tiny input and output."""

    def __init__(self, sizes):
        super().__init__()
        init = paddle.nn.initializer.Uniform(-0.02, 0.02)
        self.ws = paddle.nn.ParameterList(
            [
                self.create_parameter([a, b], default_initializer=init)
                for a, b in zip(sizes, sizes[1:])
            ]
        )

    def forward(self, x):
        for w in self.ws:
            x = paddle.matmul(x, w)
        return x


def _check_files(target, nbytes: int):
    """Return the one data file beside ``target``; check both files by path."""
    data = io.external_data_files(target)
    assert len(data) == 1, data
    # The weights live in the data file; the model itself is a few kilobytes.
    assert data[0].stat().st_size >= nbytes
    assert target.stat().st_size < 64 * 1024
    onnx.checker.check_model(str(target), full_check=True)
    return data[0]


def test_weights_past_the_threshold_are_written_as_external_data(
    reliability, tmp_path, monkeypatch
):
    """The external-data path with the threshold lowered to 4 KiB, so it runs quickly.

    The same code runs past the real 2 GiB limit in test_a_model_past_2_gib_round_trips.
    """
    monkeypatch.setattr(io, "EXTERNAL_DATA_THRESHOLD", 4096)
    layer = _Chain([16, 64, 64, 8])
    spec = [InputSpec([None, 16], "float32", "x")]
    target = tmp_path / "chain.onnx"

    first = export(layer, str(tmp_path / "chain"), input_spec=spec)
    assert first.verified, first.summary()
    nbytes = (16 * 64 + 64 * 64 + 64 * 8) * 4
    data = _check_files(target, nbytes)

    # Loaded back from its files, the model gives Paddle's answer.
    x = np.random.default_rng(1).standard_normal([5, 16]).astype("float32")
    sess = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {"x": x})
    want = layer(paddle.to_tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    # A second export replaces the pair: a new data file, the old one removed after.
    second = export(layer, str(tmp_path / "chain"), input_spec=spec)
    assert second.verified
    assert _check_files(target, nbytes) != data and not data.exists()
    reliability.record(
        "large model",
        "external data (threshold lowered to 4 KiB)",
        "written beside the model, loaded back, verified",
        second.summary()[:200],
        "pass",
    )


def _enough_room(nbytes: int, where) -> str | None:
    free_disk = shutil.disk_usage(where).free
    avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if free_disk < 2 * nbytes:
        return f"needs {2 * nbytes >> 30} GiB of disk, {free_disk >> 30} GiB free"
    if avail < 6 * nbytes:
        return f"needs about {6 * nbytes >> 30} GiB of memory, {avail >> 30} GiB available"
    return None


def test_a_model_past_2_gib_round_trips(reliability, tmp_path):
    """Three 768 MiB parameters (2.25 GiB): export, check by path, run, compare.

    Measured: about 2 minutes and 13 GB of resident memory on 2 busy cores, so it runs in
    the nightly profile, or with HARNESS_BIG_MODEL=1.
    """
    if settings.get_current_profile_name() != "nightly" and not os.environ.get(
        "HARNESS_BIG_MODEL"
    ):
        pytest.skip("writes 2.25 GiB: runs in the nightly profile or with HARNESS_BIG_MODEL=1")
    sizes = [12288, 16384, 12288, 16384]
    nbytes = sum(a * b * 4 for a, b in zip(sizes, sizes[1:]))
    assert nbytes > 2**31
    short = _enough_room(nbytes, tmp_path)
    if short:
        pytest.skip(short)

    start = time.perf_counter()
    paddle.seed(0)
    layer = _Chain(sizes)
    result = export(
        layer, str(tmp_path / "big"), input_spec=[InputSpec([2, sizes[0]], "float32", "x")]
    )
    seconds = time.perf_counter() - start
    assert result.verified, result.summary()
    _check_files(tmp_path / "big.onnx", nbytes)
    reliability.record(
        "large model",
        f"{nbytes / 2**30:.2f} GiB of weights",
        "written as external data, checked by path, run and verified",
        f"verified in {seconds:.0f}s: {result.summary()[:160]}",
        "pass",
    )
