"""What a user of Paddle's ONNX guide sees when ``harness.export`` replaces
``paddle.onnx.export``: the guide's flow works as written, and every refusal says why.
"""

from __future__ import annotations

import importlib

import numpy as np
import onnx
import onnxruntime as ort
import paddle
import pytest
from paddle.static import InputSpec

import harness
from harness.errors import OpsetTooLowError
from harness.export import registry
from harness.export.registry import MIN_OPSET
from harness.runtime import max_runtime_opset

# `harness.export` the function shadows the package attribute; import the module by name.
registry_module = importlib.import_module("harness.export.registry")


class LinearNet(paddle.nn.Layer):
    """The network of the guide's example."""

    def __init__(self):
        super().__init__()
        self._linear = paddle.nn.Linear(784, 10)

    def forward(self, x):
        return self._linear(x)


def _guide_layer() -> LinearNet:
    paddle.seed(0)
    with paddle.utils.unique_name.guard():
        return LinearNet()


X_SPEC = InputSpec([None, 784], "float32", "x")


def test_the_guide_flow_writes_a_checked_model_into_a_new_folder(tmp_path):
    layer = _guide_layer()
    # The guide's own path: paddle.onnx.export fails there while 'onnx.save' is missing.
    save_path = tmp_path / "onnx.save" / "linear_net"
    assert not save_path.parent.exists()

    result = harness.export(layer, str(save_path), input_spec=[X_SPEC])

    assert result.path == tmp_path / "onnx.save" / "linear_net.onnx"
    assert result.verified, result.summary()
    model = onnx.load(str(result.path))
    onnx.checker.check_model(model, full_check=True)
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param and not batch.HasField("dim_value"), "batch must stay dynamic"

    # Batch sizes neither traced (None) nor verified by export (1 and 3).
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(5)
    for size in (5, 7):
        x = rng.standard_normal((size, 784)).astype("float32")
        (got,) = session.run(None, {"x": x})
        with paddle.no_grad():
            want = layer(paddle.to_tensor(x)).numpy()
        assert got.shape == (size, 10)
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


def test_no_opset_picks_one_and_says_which(tmp_path):
    result = harness.export(_guide_layer(), tmp_path / "m", input_spec=[X_SPEC], verify=False)

    assert MIN_OPSET <= result.opset <= max_runtime_opset()
    assert onnx.load(str(result.path)).opset_import[0].version == result.opset
    assert f"opset {result.opset}" in result.summary()


def test_an_explicit_opset_is_honoured(tmp_path):
    result = harness.export(
        _guide_layer(), tmp_path / "m", input_spec=[X_SPEC], opset_version=MIN_OPSET
    )

    assert result.opset == MIN_OPSET and result.verified
    assert onnx.load(str(result.path)).opset_import[0].version == MIN_OPSET


class _Sampler(paddle.nn.Layer):
    """grid_sample: ONNX GridSample exists only from opset 16."""

    def forward(self, x, grid):
        return paddle.nn.functional.grid_sample(x, grid, align_corners=False)


def test_an_opset_too_low_for_an_op_is_refused_up_front_naming_op_and_opset(tmp_path):
    need = registry()["pd_op.grid_sample"].lowest_opset
    assert need > MIN_OPSET
    specs = [
        InputSpec([None, 1, 4, 4], "float32", "x"),
        InputSpec([None, 3, 3, 2], "float32", "grid"),
    ]
    target = tmp_path / "m"
    with pytest.raises(OpsetTooLowError) as info:
        harness.export(_Sampler(), target, input_spec=specs, opset_version=need - 1)

    text = str(info.value)
    assert f"pd_op.grid_sample (1 time): needs opset {need} or higher" in text
    assert f"at opset {need - 1}" in text
    assert [(u.op, u.needs_opset) for u in info.value.unsupported] == [
        ("pd_op.grid_sample", need)
    ]
    assert not target.with_suffix(".onnx").exists()
    assert harness.export(_Sampler(), target, input_spec=specs).opset >= need


def test_an_opset_beyond_the_runtime_is_refused(tmp_path):
    beyond = max_runtime_opset() + 1
    target = tmp_path / "m"
    with pytest.raises(harness.OpsetError) as info:
        harness.export(_guide_layer(), target, input_spec=[X_SPEC], opset_version=beyond)

    assert f"opset_version={beyond}" in str(info.value)
    assert f"runs up to opset {beyond - 1}" in str(info.value)
    assert not target.with_suffix(".onnx").exists()


class _TwoUnmappedOps(paddle.nn.Layer):
    """Uses pd_op.det twice and pd_op.inverse once, and nothing else."""

    def forward(self, a, b, images):
        return (
            paddle.linalg.det(a),
            paddle.linalg.det(b),
            paddle.linalg.inv(images),
        )


def test_every_unsupported_op_is_listed_with_its_count(tmp_path):
    unmapped = ("pd_op.det", "pd_op.inverse")
    assert not set(unmapped) & set(registry()), f"pick ops nobody maps instead of {unmapped}"
    specs = [
        InputSpec([None, 3, 3], "float32", "a"),
        InputSpec([None, 3, 3], "float32", "b"),
        InputSpec([None, 4, 4], "float32", "images"),
    ]
    target = tmp_path / "m"
    with pytest.raises(harness.UnsupportedOpsError) as info:
        harness.export(_TwoUnmappedOps(), target, input_spec=specs)

    found = {u.op: u.count for u in info.value.unsupported}
    assert found == {"pd_op.det": 2, "pd_op.inverse": 1}
    text = str(info.value)
    assert "2 unsupported ops" in text
    assert "pd_op.det (2 times)" in text and "pd_op.inverse (1 time)" in text
    assert not target.with_suffix(".onnx").exists()


def test_a_missing_model_file_names_the_path(tmp_path):
    missing = tmp_path / "inference" / "model"
    with pytest.raises(harness.ModelFileError) as info:
        harness.export(str(missing), tmp_path / "out")

    assert str(missing) in str(info.value)
    assert not (tmp_path / "out.onnx").exists()
