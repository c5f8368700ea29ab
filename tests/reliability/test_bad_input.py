"""Bad input through the public interface: each ends in its declared error, never a crash.

Every attempt runs in a forked child (see conftest), so a native crash would be counted
as one instead of ending the run.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import numpy as np
import paddle
import pytest
from paddle.static import InputSpec

from harness import export
from harness.errors import (
    BadArgumentError,
    CaptureError,
    ModelFileError,
    OpsetError,
    UnsupportedOpsError,
    VerificationError,
)
from harness.export import registry
from harness.runtime import max_runtime_opset


def _copy(saved_models: Path, name: str, tmp_path: Path) -> Path:
    """Copy one saved model to ``tmp_path``; return its prefix."""
    target = tmp_path / name
    shutil.copytree(saved_models / name, target)
    return target / "model"


def _edit(path: Path, fn) -> None:
    path.write_bytes(fn(path.read_bytes()))


def _exporting(source, out, **kwargs):
    return lambda: export(source, str(out), **kwargs)


# --- paths --------------------------------------------------------------------------------


def test_paths_that_do_not_name_a_model(reliability, saved_models, tmp_path):
    model = _copy(saved_models, "pir", tmp_path)
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("not a folder")
    out = tmp_path / "out" / "m"
    cases = {
        "missing prefix": (tmp_path / "nowhere" / "model", ("no saved model", "jit.save")),
        "folder given as the model": (model.parent, ("is a folder", "pass")),
        "prefix under a file": (a_file / "model", ("no saved model",)),
    }
    for name, (source, pieces) in cases.items():
        reliability.check("path", name, _exporting(source, out), ModelFileError, pieces)

    (tmp_path / "dirs").mkdir()
    (tmp_path / "dirs" / "model.json").mkdir()
    reliability.check(
        "path",
        "model.json is a folder",
        _exporting(tmp_path / "dirs" / "model", out),
        ModelFileError,
        ("is a folder", "model file"),
    )
    params_dir = _copy(saved_models, "pir", tmp_path / "p")
    params_dir.with_suffix(".pdiparams").unlink()
    params_dir.with_suffix(".pdiparams").mkdir()
    reliability.check(
        "path",
        ".pdiparams is a folder",
        _exporting(params_dir, out),
        ModelFileError,
        ("is a folder",),
    )


def test_output_paths_that_cannot_be_written(reliability, saved_models, tmp_path):
    model = _copy(saved_models, "pir", tmp_path)
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("x")
    (tmp_path / "taken.onnx").mkdir()
    cases = {
        "output under a file": (str(a_file / "model"), ("is a file", "folder")),
        "output names a folder": (str(tmp_path) + os.sep, ("names a folder", "prefix")),
        "output .onnx is a folder": (str(tmp_path / "taken"), ("is a folder",)),
        # root may write anywhere a permission bit says no; /proc refuses even root.
        "output folder on a read-only filesystem": ("/proc/harness-out/model", ("cannot",)),
        "output path empty": ("", ("file prefix",)),
    }
    for name, (out, pieces) in cases.items():
        reliability.check("path", name, _exporting(model, out), BadArgumentError, pieces)
    reliability.check(
        "path",
        "output path not a path",
        lambda: export(model, 42),
        BadArgumentError,
        ("str or os.PathLike", "int"),
    )
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        reliability.check(
            "path",
            "output folder without write permission",
            _exporting(model, locked / "m"),
            BadArgumentError,
            ("not writable",),
        )
    assert not (tmp_path / "taken.onnx" / "model.onnx").exists()


def test_a_failing_output_path_is_refused_before_any_work(saved_models, tmp_path, monkeypatch):
    """The output is probed first: a bad path must not cost a capture."""
    import harness.api as api

    def capture(*args):
        raise AssertionError("captured before checking the output path")

    monkeypatch.setattr(api, "_capture", capture)
    with pytest.raises(BadArgumentError):
        export(_copy(saved_models, "pir", tmp_path), "/proc/harness-out/model")


# --- corrupt files ------------------------------------------------------------------------


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _garbage(data: bytes) -> bytes:
    return bytes(np.random.default_rng(0).integers(0, 256, len(data), dtype=np.uint8))


_PIR_CORRUPTIONS = {
    # name: (file, edit, pieces the message must hold)
    "json truncated at half": ("model.json", _half, ("not valid JSON", "truncated", "byte")),
    "json missing its last byte": ("model.json", lambda d: d[:-1], ("truncated",)),
    "json random bytes": ("model.json", _garbage, ("not a Paddle program", "UTF-8")),
    "json empty": ("model.json", lambda d: b"", ("is empty",)),
    "json of another kind": ("model.json", lambda d: b'{"hello": 1}', ("not a Paddle PIR",)),
    "json a list": ("model.json", lambda d: b"[1, 2]", ("not a Paddle PIR", "list")),
    "json names an unknown op": (
        "model.json",
        lambda d: d.replace(b'"1.relu"', b'"1.no_such_op"'),
        ("no type", "does not know"),
    ),
    "json names an unknown dtype": (
        "model.json",
        lambda d: d.replace(b"0.t_f32", b"0.t_zz", 1),
        ("Unknown Type",),
    ),
    "pdiparams truncated at half": ("model.pdiparams", _half, ("truncated", "byte")),
    "pdiparams one byte short": (
        "model.pdiparams",
        lambda d: d[:-1],
        ("truncated", "float32 data"),
    ),
    "pdiparams random bytes": ("model.pdiparams", _garbage, ("version",)),
    "pdiparams empty": ("model.pdiparams", lambda d: b"", ("is empty",)),
    "pdiparams with trailing bytes": (
        "model.pdiparams",
        lambda d: d + b"\0" * 40,
        ("trailing bytes",),
    ),
    # A LoD count of 2**40: Paddle 3.3 allocates for it until the kernel kills it.
    "pdiparams header claims 2**40 LoD levels": (
        "model.pdiparams",
        lambda d: d[:4] + struct.pack("<Q", 1 << 40) + d[12:],
        ("LoD levels",),
    ),
    # A tensor whose dims claim 10**12 floats in a 110-byte file.
    "pdiparams header claims a huge tensor": (
        "model.pdiparams",
        lambda d: d[:20] + b"\x08\x05\x10\x80\xa0\x94\xa5\x8d\x1d" + d[24:],
        ("corrupt",),
    ),
}
_LEGACY_CORRUPTIONS = {
    "pdmodel truncated at half": ("model.pdmodel", _half, ("ProgramDesc", "truncated")),
    "pdmodel missing its last byte": ("model.pdmodel", lambda d: d[:-1], ("ProgramDesc",)),
    "pdmodel random bytes": ("model.pdmodel", _garbage, ("ProgramDesc",)),
    "pdmodel empty": ("model.pdmodel", lambda d: b"", ("is empty",)),
    "legacy pdiparams truncated": ("model.pdiparams", _half, ("truncated",)),
    "legacy pdiparams one byte short": ("model.pdiparams", lambda d: d[:-1], ("truncated",)),
    "legacy pdiparams random bytes": ("model.pdiparams", _garbage, ("version",)),
}


@pytest.mark.parametrize(
    "kind, corruptions", [("pir", _PIR_CORRUPTIONS), ("legacy", _LEGACY_CORRUPTIONS)]
)
def test_corrupt_model_files_raise_model_file_error(
    reliability, saved_models, tmp_path, kind, corruptions
):
    for i, (name, (file, edit, pieces)) in enumerate(corruptions.items()):
        model = _copy(saved_models, kind, tmp_path / str(i))
        _edit(model.parent / file, edit)
        out = tmp_path / "out" / str(i)
        reliability.check("corrupt file", name, _exporting(model, out), ModelFileError, pieces)
        assert not out.with_suffix(".onnx").exists(), f"{name}: a model was written"


def test_a_missing_params_file_is_named(reliability, saved_models, tmp_path):
    for kind in ("pir", "legacy"):
        model = _copy(saved_models, kind, tmp_path / kind)
        model.with_suffix(".pdiparams").unlink()
        reliability.check(
            "corrupt file",
            f"{kind} .pdiparams missing",
            _exporting(model, tmp_path / "out"),
            ModelFileError,
            ("is missing", "linear_0.w_0"),
        )


# --- params that do not match the program -------------------------------------------------


@pytest.mark.parametrize("kind", ["pir", "legacy"])
def test_params_of_another_model_are_refused(reliability, saved_models, tmp_path, kind):
    pairs = {
        "params with extra parameters": (kind, f"{kind}_extra", ("has 2 parameter", "4")),
        "params missing parameters": (f"{kind}_extra", kind, ("has 4 parameter", "2")),
        "params with wrong shapes": (kind, f"{kind}_shape", ("[4, 3]", "[5, 3]")),
    }
    for name, (program_of, params_of, pieces) in pairs.items():
        model = _copy(saved_models, program_of, tmp_path / name.replace(" ", "_"))
        shutil.copy(saved_models / params_of / "model.pdiparams", model.parent)
        reliability.check(
            "params mismatch",
            f"{kind}: {name}",
            _exporting(model, tmp_path / "out"),
            ModelFileError,
            ("does not match its program", *pieces),
        )


def test_a_renamed_parameter_cannot_load_into_the_wrong_slot(
    reliability, saved_models, tmp_path
):
    # Paddle assigns stored tensors by sorted name: renaming linear_0.w_0 to #inear_0.w_0
    # reorders them, and the bias would silently receive the weight.
    model = _copy(saved_models, "pir", tmp_path)
    _edit(
        model.with_suffix(".json"), lambda d: d.replace(b'"linear_0.w_0"', b'"#inear_0.w_0"')
    )
    reliability.check(
        "params mismatch",
        "a parameter renamed in the program",
        _exporting(model, tmp_path / "out"),
        ModelFileError,
        ("does not match its program", "#inear_0.w_0"),
    )


# --- layers and input specs ---------------------------------------------------------------


def _spec_cases():
    f32 = "float32"
    lin, conv = paddle.nn.Linear(4, 3), paddle.nn.Conv2D(3, 2, 3)
    return {
        # name: (layer, input_spec, error, pieces)
        "Linear given the wrong last dim": (
            lin,
            [InputSpec([None, 5], f32, "x")],
            CaptureError,
            ("could not trace", "[-1, 5]", "matmul"),
        ),
        "Linear given int64": (
            lin,
            [InputSpec([2, 4], "int64", "x")],
            CaptureError,
            ("int64",),
        ),
        "Linear given bool": (lin, [InputSpec([2, 4], "bool", "x")], CaptureError, ("bool",)),
        "Conv2D given rank 3": (
            conv,
            [InputSpec([3, 8, 8], f32, "x")],
            CaptureError,
            ("[3, 8, 8]",),
        ),
        "Conv2D given rank 5": (
            conv,
            [InputSpec([1, 1, 3, 8, 8], f32, "x")],
            CaptureError,
            ("could not trace",),
        ),
        "two specs for a one-input layer": (
            lin,
            [InputSpec([2, 4], f32, "a"), InputSpec([2, 4], f32, "b")],
            CaptureError,
            ("requires 1 arguments",),
        ),
        "no spec for a layer": (lin, None, BadArgumentError, ("input_spec is required",)),
        "empty spec list": (lin, [], CaptureError, ("could not trace",)),
        "spec that is a string": (lin, ["x"], BadArgumentError, ("input_spec[0]", "str")),
        # InputSpec itself turns -5 into -1 (dynamic); Linear then fails at a drawn size.
        "spec with a negative dim": (
            lin,
            [InputSpec([2, -5], f32, "x")],
            VerificationError,
            ("Paddle itself failed", "(2, 32)"),
        ),
    }


def test_input_specs_that_do_not_fit_the_layer(reliability, tmp_path):
    for i, (name, (layer, spec, error, pieces)) in enumerate(_spec_cases().items()):
        run = lambda layer=layer, spec=spec, i=i: export(  # noqa: E731
            layer, str(tmp_path / str(i)), input_spec=spec
        )
        reliability.check("input spec", name, run, error, pieces)


def test_objects_that_are_not_layers(reliability, tmp_path):
    objects = {
        "None": None,
        "an int": 3,
        "a function": lambda x: x,
        "a numpy array": np.zeros(3),
        "a Layer class, not an instance": paddle.nn.Linear,
        "a list of layers": [paddle.nn.ReLU()],
    }
    spec = [InputSpec([2, 4], "float32", "x")]
    for name, obj in objects.items():
        reliability.check(
            "layer type",
            name,
            lambda obj=obj: export(obj, str(tmp_path / "m"), input_spec=spec),
            BadArgumentError,
            ("paddle.nn.Layer", "got"),
        )


# --- opsets and providers ------------------------------------------------------------------


def test_opsets_that_cannot_be_exported_or_run(reliability, saved_models, tmp_path):
    model = _copy(saved_models, "pir", tmp_path)
    high = max_runtime_opset()
    opsets = {
        "opset 0": (0, ("outside", str(high))),
        "opset 10, below the lowest written": (10, ("outside", "11")),
        "opset beyond the runtime": (high + 1, ("outside", "onnxruntime runs up to")),
        "opset 99": (99, ("outside",)),
        "opset as a string": ("17", ("must be an int", "str")),
        "opset as a float": (17.0, ("must be an int", "float")),
        "opset as a bool": (True, ("must be an int", "bool")),
    }
    for name, (opset, pieces) in opsets.items():
        reliability.check(
            "opset",
            name,
            _exporting(model, tmp_path / "out", opset_version=opset),
            OpsetError,
            pieces,
        )


def test_providers_that_do_not_exist(reliability, saved_models, tmp_path):
    model = _copy(saved_models, "pir", tmp_path)
    for name, providers in {
        "provider name misspelt": ["gpu"],
        "providers not a list": 5,
        "providers empty": [],
    }.items():
        reliability.check(
            "provider",
            name,
            _exporting(model, tmp_path / "out", providers=providers),
            BadArgumentError,
            ("provider",),
        )
    if "CUDAExecutionProvider" not in __import__("onnxruntime").get_available_providers():
        reliability.check(
            "provider",
            "only an unavailable provider asked for",
            _exporting(model, tmp_path / "out", providers=["cuda"]),
            VerificationError,
            ("no provider could run", "not available"),
        )


# --- verification inputs ------------------------------------------------------------------


def test_verify_inputs_of_the_wrong_form(reliability, saved_models, tmp_path):
    model = _copy(saved_models, "pir", tmp_path)
    x = np.ones([2, 4], "float32")
    cases = {
        "verify_inputs an int": (5, ("verify_inputs must be",)),
        "verify_inputs with two arrays for one input": ([[x, x]], ("2 arrays", "1 inputs")),
        "verify_inputs of the wrong rank": ([[np.ones([4], "float32")]], ("shape (4,)",)),
        "verify_inputs of the wrong size": ([[np.ones([2, 5], "float32")]], ("shape (2, 5)",)),
        "verify_inputs of the wrong dtype": ([[x.astype("float64")]], ("float64", "float32")),
        "verify_inputs of strings": ([[np.full([2, 4], "a")]], ("dtype <U1",)),
        "verify_inputs set not a list": ([x.sum()], ("must be a list of arrays",)),
    }
    for name, (inputs, pieces) in cases.items():
        reliability.check(
            "verify inputs",
            name,
            _exporting(model, tmp_path / "out", verify_inputs=inputs),
            BadArgumentError,
            pieces,
        )


class _Affine(paddle.nn.Layer):
    def forward(self, x):
        return x * 2.0 + 1.0


def test_nan_and_inf_inputs_are_compared_where_they_land(reliability, tmp_path):
    """NaN/inf inputs are legitimate: both sides must put NaN and inf at the same places."""
    x = np.array([[np.nan, np.inf, -np.inf, 1.0], [0.0, -2.0, np.nan, 3.0]], "float32")
    spec = [InputSpec([2, 4], "float32", "x")]

    def affine():
        result = export(_Affine(), str(tmp_path / "a"), input_spec=spec, verify_inputs=[[x]])
        return result.verified, result.max_abs

    outcome = reliability.check("verify inputs", "NaN and inf through x * 2 + 1", affine, None)
    assert outcome.value == (True, 0.0)
    # Measured: Paddle's relu maps NaN to 0, ONNX Relu keeps NaN. Verification must
    # catch that disagreement, never pass over it.
    reliability.check(
        "verify inputs",
        "NaN through relu (Paddle gives 0, ONNX NaN)",
        lambda: export(
            paddle.nn.ReLU(), str(tmp_path / "r"), input_spec=spec, verify_inputs=[[x]]
        ),
        VerificationError,
        ("mismatch", "2 of 8 elements differ", "(0, 0)"),
    )


# --- ops no mapping knows -----------------------------------------------------------------


def test_every_unsupported_op_is_listed_once_with_its_count(
    reliability, saved_models, tmp_path
):
    assert "pd_op.lgamma" not in registry() and "pd_op.digamma" not in registry(), (
        "pick other unmapped ops for this test"
    )

    class Odd(paddle.nn.Layer):
        def forward(self, x):
            return paddle.lgamma(x) + paddle.lgamma(x * 2.0) + paddle.digamma(x)

    spec = [InputSpec([2, 4], "float32", "x")]
    sources = {
        "a layer with two unmapped ops": (Odd(), spec),
        "a saved model with two unmapped ops": (saved_models / "unsupported" / "model", None),
    }
    for name, (source, input_spec) in sources.items():
        outcome = reliability.check(
            "unsupported ops",
            name,
            lambda s=source, i=input_spec: export(s, str(tmp_path / "m"), input_spec=i),
            UnsupportedOpsError,
            ("2 unsupported ops", "pd_op.lgamma (2 times)", "pd_op.digamma (1 time)"),
        )
        assert outcome.error.unsupported[0].count + outcome.error.unsupported[1].count == 3
