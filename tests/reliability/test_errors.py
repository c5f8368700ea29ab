"""One small hierarchy: every failure category is proven, through export() and the CLI."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import onnxruntime
import paddle
import pytest
from paddle.static import InputSpec

from harness import cli, export
from harness.errors import (
    BadArgumentError,
    CaptureError,
    ExportError,
    HarnessError,
    ModelFileError,
    OpsetError,
    OpsetTooLowError,
    ProviderUnavailableError,
    UnsupportedOpsError,
    VerificationError,
)
from harness.export import register, registry

SPEC = [InputSpec([2, 4], "float32", "x")]


class _Lgamma(paddle.nn.Layer):
    """One op (pd_op.lgamma) that no mapping knows; tests register one in a child."""

    def forward(self, x):
        return paddle.lgamma(x)


def _with_mapping(convert, since=11):
    """Register ``convert`` for pd_op.lgamma: only ever called inside a forked child, so
    the process-wide registry (and the pairing test) never sees it."""
    assert "pd_op.lgamma" not in registry()
    register("pd_op.lgamma", since=since)(convert)


def test_every_error_is_a_harness_error():
    for cls in (
        BadArgumentError,
        ModelFileError,
        CaptureError,
        ExportError,
        UnsupportedOpsError,
        OpsetError,
        OpsetTooLowError,
        VerificationError,
        ProviderUnavailableError,
    ):
        assert issubclass(cls, HarnessError), cls


def test_each_category_says_what_was_expected_what_came_and_where(reliability, tmp_path):
    out = str(tmp_path / "m")

    def failing_mapping():
        def convert(ctx, op):
            raise RuntimeError("boom")

        _with_mapping(convert)
        export(_Lgamma(), out, input_spec=SPEC)

    def too_low():
        _with_mapping(lambda ctx, op: None, since=18)
        export(_Lgamma(), out, input_spec=SPEC, opset_version=17)

    def wrong_mapping():
        # A mapping that is wrong on purpose: verification must refuse the model.
        _with_mapping(lambda ctx, op: ctx.node("Identity", [ctx.input(op, 0)], [ctx.out(op)]))
        try:
            export(_Lgamma(), out, input_spec=SPEC)
        except VerificationError as e:
            assert e.verdict.status == "mismatch"
            assert (tmp_path / "m.onnx").exists(), "the model is kept for inspection"
            raise

    cases = {
        "bad argument": (
            lambda: export(3, out, input_spec=SPEC),
            BadArgumentError,
            ("paddle.nn.Layer", "got int"),
        ),
        "model file": (
            lambda: export(str(tmp_path / "none"), out),
            ModelFileError,
            ("no saved model", "pass the prefix given to paddle.jit.save"),
        ),
        "capture": (
            lambda: export(paddle.nn.Linear(4, 3), out, input_spec=[InputSpec([2, 5])]),
            CaptureError,
            ("could not trace Linear", "[2, 5]", "matmul"),
        ),
        "export (a mapping that fails)": (
            failing_mapping,
            ExportError,
            ("mapping of pd_op.lgamma", "op #", "opset 17", "RuntimeError: boom"),
        ),
        "unsupported ops": (
            lambda: export(_Lgamma(), out, input_spec=SPEC),
            UnsupportedOpsError,
            ("pd_op.lgamma (1 time)", "no mapping", "harness/export/"),
        ),
        "opset unknown": (
            lambda: export(_Lgamma(), out, input_spec=SPEC, opset_version=5),
            OpsetError,
            ("opset_version=5", "outside", "onnxruntime runs up to"),
        ),
        "opset too low for an op": (
            too_low,
            OpsetTooLowError,
            ("pd_op.lgamma", "needs opset 18", "at opset 17", "larger opset_version"),
        ),
        "verification mismatch": (
            wrong_mapping,
            VerificationError,
            ("verification of", "model kept", "mismatch", "elements differ"),
        ),
    }
    for name, (fn, error, pieces) in cases.items():
        reliability.check("error category", name, fn, error, pieces)


def test_provider_unavailable_is_its_own_error(reliability, tmp_path):
    from harness.runtime import session

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("CUDA is available here")
    reliability.check(
        "error category",
        "provider unavailable",
        lambda: session(b"", "cuda"),
        ProviderUnavailableError,
        ("CUDAExecutionProvider is not available", "onnxruntime-gpu"),
    )


def test_an_unexpected_internal_error_is_still_one_of_ours(reliability, tmp_path):
    """A bug inside the exporter surfaces as the phase's error, chained, never bare."""

    def broken_converter():
        import harness.api as api

        def to_onnx(graph, opset):
            raise KeyError("internal")

        api.to_onnx = to_onnx
        try:
            export(paddle.nn.ReLU(), str(tmp_path / "m"), input_spec=SPEC)
        except ExportError as e:
            assert isinstance(e.__cause__, KeyError)
            raise

    reliability.check(
        "error category",
        "a bug inside the converter",
        broken_converter,
        ExportError,
        ("converting the program to ONNX", "unexpected KeyError", "please report"),
    )


# --- the command line ---------------------------------------------------------------------


def _cli(capsys, *argv) -> tuple[int, str]:
    code = cli.main(["export", *argv])
    return code, capsys.readouterr().err


def test_cli_errors_are_one_line_with_exit_code_1(reliability, saved_models, tmp_path, capsys):
    out = str(tmp_path / "out.onnx")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "model.json").write_text('{"base_code": ')
    cases = {
        "cli: missing model": ([str(tmp_path / "none"), "-o", out], "ModelFileError"),
        "cli: corrupt json": ([str(corrupt / "model"), "-o", out], "ModelFileError"),
        "cli: unsupported ops": (
            [str(saved_models / "unsupported" / "model"), "-o", out],
            "UnsupportedOpsError",
        ),
        "cli: opset beyond the runtime": (
            [str(saved_models / "pir" / "model"), "-o", out, "--opset", "99"],
            "OpsetError",
        ),
        "cli: output under a file": (
            [str(saved_models / "pir" / "model"), "-o", str(corrupt / "model.json" / "x")],
            "BadArgumentError",
        ),
    }
    for name, (argv, error) in cases.items():
        code, err = _cli(capsys, *argv)
        lines = err.strip().splitlines()
        ok = (
            code == 1 and len(lines) == 1 and lines[0].startswith(f"harness export: {error}: ")
        )
        reliability.record(
            "cli",
            name,
            f"exit 1, one line: {error}",
            f"exit {code}: {err[:200]}",
            "pass" if ok else "wrong",
            bad_input=True,
        )
        assert ok, f"{name}: exit {code}, stderr:\n{err}"
        assert "Traceback" not in err
    assert "pd_op.lgamma (2 times)" in _cli(capsys, *cases["cli: unsupported ops"][0])[1]


def test_cli_usage_errors_exit_2(reliability, capsys):
    for name, argv in {
        "cli: no arguments": ["export"],
        "cli: no output": ["export", "model"],
        "cli: opset not a number": ["export", "model", "-o", "x.onnx", "--opset", "abc"],
        "cli: unknown command": ["frobnicate"],
    }.items():
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        code = exc.value.code
        reliability.record(
            "cli",
            name,
            "argparse exit 2",
            f"exit {code}",
            "pass" if code == 2 else "wrong",
            bad_input=True,
        )
        assert code == 2
    capsys.readouterr()


def test_cli_reports_a_native_crash_as_an_error(reliability, saved_models, tmp_path, capsys):
    """`harness export` exports in a child: a segfault there is a one-line error here."""
    import harness.api as api

    real = api._capture

    def segfault(*args):
        ctypes.string_at(0)  # a real SIGSEGV, inside the child only

    api._capture = segfault
    try:
        code, err = _cli(
            capsys, str(saved_models / "pir" / "model"), "-o", str(tmp_path / "o")
        )
    finally:
        api._capture = real
    ok = code == 1 and "ExportError" in err and "SIGSEGV" in err
    reliability.record(
        "isolation",
        "cli: segfault while exporting",
        "exit 1 naming SIGSEGV",
        f"exit {code}: {err.strip().splitlines()[-1][:200] if err.strip() else ''}",
        "pass" if ok else "wrong",
    )
    assert ok, err
    assert not (tmp_path / "o.onnx").exists()


def test_cli_in_a_fresh_process_prints_one_line_and_no_traceback(saved_models, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "export", str(tmp_path / "none"), "-o", "x.onnx"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("harness export: ModelFileError: "), lines
