"""Saved inference models exported through the public interfaces: the library and the CLI.

Each model is written with ``paddle.jit.save`` (Paddle 3 writes ``.json`` + ``.pdiparams``)
and exported by ``harness.export(prefix, out)`` and by ``harness export PREFIX -o OUT.onnx``.
The written file must pass the full ONNX checker and match Paddle's own Executor running
the saved program, at batch sizes other than the ones ``export`` verified itself. A legacy
``.pdmodel`` is written in a child process with the PIR API off, and exported the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import paddle
import pytest
from paddle.static import InputSpec

import harness
from model_cases.zoo import seeded_layer

ROOT = Path(__file__).resolve().parent.parent

# name -> (builder, input shape, float32 (atol, rtol)). resnet18 runs at 64x64 to keep the
# module quick (224x224 is proven in test_models); its global pool then averages 2x2
# instead of 7x7 values, so less error cancels: max abs 1.5e-5 against 3.8e-6 at 224.
MODELS = {
    "linear": (lambda: paddle.nn.Linear(784, 10), [None, 784], (1e-5, 1e-5)),
    "lenet": (paddle.vision.models.LeNet, [None, 1, 28, 28], (2e-5, 2e-5)),
    "resnet18": (paddle.vision.models.resnet18, [None, 3, 64, 64], (4e-5, 4e-5)),
}
# Batch sizes checked here; ``export`` itself verifies at 1 and 3.
CHECK_BATCHES = (2, 5)


def _env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOG_minloglevel="2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    """Save every model of MODELS once; return name -> prefix."""
    folder = tmp_path_factory.mktemp("saved")
    prefixes = {}
    for seed, (name, (make, shape, _)) in enumerate(MODELS.items()):
        layer, _ = seeded_layer(make, shape, seed)
        prefix = folder / name
        paddle.jit.save(layer, str(prefix), input_spec=[InputSpec(shape, "float32", "x")])
        assert prefix.with_suffix(".json").is_file(), sorted(os.listdir(folder))
        prefixes[name] = prefix
    return prefixes


@pytest.fixture(scope="module")
def legacy(tmp_path_factory) -> Path:
    """Write LeNet as a legacy ``.pdmodel``; return its prefix.

    The PIR API can only be switched off before ``import paddle``, hence the child process.
    """
    prefix = tmp_path_factory.mktemp("legacy") / "lenet"
    script = textwrap.dedent(
        f"""
        import os
        os.environ["FLAGS_enable_pir_api"] = "0"
        import paddle
        from model_cases.zoo import seeded_layer
        layer, _ = seeded_layer(paddle.vision.models.LeNet, [None, 1, 28, 28], 1)
        spec = paddle.static.InputSpec([None, 1, 28, 28], "float32", "x")
        paddle.jit.save(layer, {str(prefix)!r}, input_spec=[spec])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert prefix.with_suffix(".pdmodel").is_file()
    assert not prefix.with_suffix(".json").exists()
    return prefix


def _executor(prefix: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run the saved program with Paddle's Executor (not through the harness)."""
    legacy = prefix.with_suffix(".pdmodel").exists()
    scope = paddle.static.Scope()
    paddle.enable_static()
    try:
        with paddle.static.scope_guard(scope):
            exe = paddle.static.Executor(paddle.CPUPlace())
            if legacy:
                with paddle.pir_utils.OldIrGuard():
                    program, feeds, fetches = paddle.static.load_inference_model(
                        str(prefix), exe
                    )
                    return exe.run(program, feed=dict(zip(feeds, inputs)), fetch_list=fetches)
            program, feeds, fetches = paddle.static.load_inference_model(str(prefix), exe)
            return exe.run(program, feed=dict(zip(feeds, inputs)), fetch_list=fetches)
    finally:
        paddle.disable_static()


def _check_onnx(path: Path, prefix: Path, shape, tol) -> None:
    """The file passes the full checker and matches the Executor at CHECK_BATCHES."""
    assert path.is_file(), f"{path} was not written"
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    rng = np.random.default_rng(42)
    for batch in CHECK_BATCHES:
        x = rng.standard_normal([batch, *shape[1:]]).astype("float32")
        got = session.run(None, {name: x})
        want = _executor(prefix, [x])
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(
                g, w, atol=tol[0], rtol=tol[1], err_msg=f"batch {batch}"
            )


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", "export", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.model
@pytest.mark.parametrize("name", list(MODELS))
def test_library_exports_saved_model(saved, name, tmp_path):
    _, shape, tol = MODELS[name]
    out = tmp_path / "not" / "yet" / name
    result = harness.export(saved[name], out, tolerances={"float32": tol})
    assert result.path == Path(f"{out}.onnx")
    assert result.dynamic and result.verified, result.summary()
    assert {shapes[0][0] for shapes in result.verdicts[0].input_shapes} == {1, 3}
    _check_onnx(result.path, saved[name], shape, tol)


# A CLI run is a fresh process (about 3 s of imports), so two models cover it.
@pytest.mark.model
def test_cli_exports_and_verifies_saved_model(saved, tmp_path):
    _, shape, tol = MODELS["linear"]
    out = tmp_path / "cli" / "linear.onnx"
    proc = _cli(str(saved["linear"]), "-o", str(out), "--records", str(tmp_path / "rec"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"wrote {out}" in proc.stdout and "pass on CPUExecutionProvider" in proc.stdout
    _check_onnx(out, saved["linear"], shape, tol)


# The CLI verifies at the default float32 tolerance (1e-5, 1e-5), which resnet18 at 64x64
# exceeds (1.5e-5) and it has no option to loosen it; so export with --no-verify here and
# check the file at the bound measured for this model.
@pytest.mark.model
def test_cli_exports_saved_resnet18_unverified(saved, tmp_path):
    _, shape, tol = MODELS["resnet18"]
    out = tmp_path / "cli" / "resnet18.onnx"
    proc = _cli(str(saved["resnet18"]), "-o", str(out), "--no-verify")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"wrote {out}" in proc.stdout and "not verified" in proc.stdout
    _check_onnx(out, saved["resnet18"], shape, tol)


@pytest.mark.model
def test_legacy_pdmodel_exports_through_library_and_cli(legacy, tmp_path):
    shape, tol = [None, 1, 28, 28], MODELS["lenet"][2]
    result = harness.export(legacy, tmp_path / "lib" / "lenet", tolerances={"float32": tol})
    assert result.verified, result.summary()
    _check_onnx(result.path, legacy, shape, tol)

    out = tmp_path / "cli" / "lenet.onnx"
    proc = _cli(str(legacy), "-o", str(out), "--records", str(tmp_path / "records"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_onnx(out, legacy, shape, tol)


@pytest.mark.model
def test_cli_names_a_missing_model(tmp_path):
    missing = tmp_path / "nowhere" / "model"
    proc = _cli(str(missing), "-o", str(tmp_path / "out.onnx"))
    assert proc.returncode == 1
    assert "ModelFileError" in proc.stderr and str(missing) in proc.stderr
    assert not (tmp_path / "out.onnx").exists()
