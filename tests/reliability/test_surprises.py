"""No surprises: no network or installs at run time, no leaked Paddle mode, layer unchanged."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request

import numpy as np
import paddle
import pytest
from hypothesis import strategies as st
from paddle.static import InputSpec

from harness import cli, export
from harness.cases import OpCase
from harness.cases.runner import RunConfig, run_case
from harness.cases.spec import CaseProgram
from harness.errors import CaptureError
from harness.isolation import run_in_child


class _Model(paddle.nn.Layer):
    """Conv, batch norm (running statistics are state), dropout (behaves by mode)."""

    def __init__(self):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, 4, 3, padding=1)
        self.bn = paddle.nn.BatchNorm2D(4)
        self.drop = paddle.nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(paddle.nn.functional.relu(self.bn(self.conv(x))))


SPEC = [InputSpec([None, 3, 8, 8], "float32", "x")]


def _forbid(monkeypatch, attempts: list):
    def refuse(what):
        def call(*args, **kwargs):
            attempts.append(what)
            raise AssertionError(f"{what} at run time")

        return call

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket, "create_connection", refuse("socket.create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("socket.getaddrinfo"))
    monkeypatch.setattr(urllib.request, "urlopen", refuse("urlopen"))
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("subprocess.Popen"))
    monkeypatch.setattr(os, "system", refuse("os.system"))
    monkeypatch.setattr(os, "execv", refuse("os.execv"))
    monkeypatch.setattr(os, "execve", refuse("os.execve"))


def test_nothing_is_installed_downloaded_or_sent(
    reliability, saved_models, tmp_path, monkeypatch
):
    env = dict(os.environ)
    modules = set(sys.modules)
    attempts: list[str] = []
    _forbid(monkeypatch, attempts)
    export(_Model(), str(tmp_path / "layer"), input_spec=SPEC)
    export(str(saved_models / "pir" / "model"), str(tmp_path / "saved"))
    code = cli.main(
        [
            "export",
            str(saved_models / "legacy" / "model"),
            "-o",
            str(tmp_path / "cli.onnx"),
            "--records",
            str(tmp_path / "records"),
        ]
    )
    monkeypatch.undo()
    new_modules = sorted(m for m in set(sys.modules) - modules if m.split(".")[0] == "pip")
    # The CLI names its run in HARNESS_RUN_ID, so that every shard of one run shares it.
    keys = (set(env) | set(os.environ)) - {"HARNESS_RUN_ID"}
    changed = sorted(k for k in keys if env.get(k) != os.environ.get(k))
    ok = code == 0 and not attempts and not new_modules and not changed
    reliability.record(
        "surprises",
        "network, subprocess and installs while exporting (layer, saved, CLI)",
        "none attempted; environment unchanged",
        f"attempts {attempts}, pip modules {new_modules}, env changed {changed}",
        "pass" if ok else "wrong",
    )
    assert ok, (code, attempts, new_modules, changed)


def _readable_flags() -> list[str]:
    names = []
    for name in paddle.base.core.globals().keys():
        try:
            paddle.get_flags([name])
        except ValueError:  # a few flags refuse to be read this way
            continue
        names.append(name)
    return names


_FLAGS = _readable_flags()


def _paddle_state() -> dict:
    flags = _FLAGS
    return {
        "dynamic": paddle.in_dynamic_mode(),
        "pir": paddle.framework.in_pir_mode(),
        "default_dtype": paddle.get_default_dtype(),
        "device": paddle.get_device(),
        "grad": paddle.is_grad_enabled(),
        "flags": paddle.get_flags(flags),
    }


def _diff(before: dict, after: dict) -> dict:
    out = {k: (before[k], after[k]) for k in before if k != "flags" and before[k] != after[k]}
    flags = before["flags"]
    out.update(
        {
            k: (flags[k], after["flags"].get(k))
            for k in flags
            if flags[k] != after["flags"].get(k)
        }
    )
    return out


def _relu_program():
    x = np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)
    return CaseProgram(paddle.nn.ReLU(), [InputSpec([2, 3], "float32", "x")], [[x]])


def _state_change(run) -> dict:
    before = _paddle_state()
    try:
        run()
    except CaptureError:
        pass
    return _diff(before, _paddle_state())


def test_no_global_paddle_mode_leaks(reliability, saved_models, tmp_path):
    # The layers are built first, in dynamic mode, as a caller would have built them.
    model, linear, program = _Model(), paddle.nn.Linear(4, 3), _relu_program()
    runs = {
        "export of a layer": lambda: export(model, str(tmp_path / "a"), input_spec=SPEC),
        "a failing export": lambda: export(
            linear, str(tmp_path / "b"), input_spec=[InputSpec([2, 5])]
        ),
        "export of a saved model": lambda: export(
            str(saved_models / "pir" / "model"), str(tmp_path / "c")
        ),
        "a case run": lambda: run_case(
            OpCase("pd_op.relu", "probe", st.nothing(), "relu"),
            program,
            RunConfig([13], store=None),
        ),
    }

    def caller_state(static: bool, dtype: str):
        if static:
            paddle.enable_static()
        paddle.set_default_dtype(dtype)

    for caller, (static, dtype) in {
        "dynamic mode, float32": (False, "float32"),
        "static mode, float64": (True, "float64"),
    }.items():
        for name, run in runs.items():
            caller_state(static, dtype)
            try:
                # Measured in a forked copy of this caller: Paddle 3.3 has hung (busy in
                # matmul's dtype check) and crashed inside to_static after earlier failed
                # traces, about once in 17 runs, and that must not hang the suite.
                outcome = run_in_child(_state_change, run, timeout=300)
            finally:
                paddle.disable_static()
                paddle.set_default_dtype("float32")
            if outcome.kind != "returned":
                pytest.skip(
                    f"Paddle itself {outcome.kind} ({outcome.signal or outcome.message})"
                    f" during {name} from {caller}; isolated, nothing to compare"
                )
            changed = outcome.value
            reliability.record(
                "surprises",
                f"global Paddle state after {name} ({caller})",
                "unchanged",
                f"changed: {changed}" if changed else "unchanged",
                "wrong" if changed else "pass",
            )
            assert not changed, f"{name} from {caller} changed {changed}"


def _layer_state(layer) -> dict:
    return {
        "params": {k: v.numpy().copy() for k, v in layer.state_dict().items()},
        "names": [p.name for p in layer.parameters()],
        "stop_gradient": [p.stop_gradient for p in layer.parameters()],
        "training": [
            (name, sub.training) for name, sub in layer.named_sublayers(include_self=True)
        ],
        "forward": type(layer).__dict__.get("forward") is _Model.forward
        and "forward" not in vars(layer),
        "hooks": (len(layer._forward_pre_hooks), len(layer._forward_post_hooks)),
    }


def _eval_output(layer, x) -> np.ndarray:
    """The layer's output in eval mode (deterministic), leaving every mode as it was."""
    modes = [(sub, sub.training) for sub in layer.sublayers(include_self=True)]
    layer.eval()
    with paddle.no_grad():
        out = layer(paddle.to_tensor(x)).numpy()
    for sub, training in modes:
        sub.training = training
    return out


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_the_users_layer_is_unchanged_by_export(reliability, tmp_path, mode):
    paddle.seed(0)
    layer = _Model()
    # Give the batch norm running statistics that are not the defaults.
    layer.train()
    layer(paddle.to_tensor(np.random.default_rng(0).standard_normal([4, 3, 8, 8]), "float32"))
    getattr(layer, mode)()
    x = np.random.default_rng(1).standard_normal([2, 3, 8, 8]).astype("float32")
    before, out_before = _layer_state(layer), _eval_output(layer, x)
    runs = {
        "export": lambda: export(layer, str(tmp_path / "a"), input_spec=SPEC),
        "isolated export": lambda: export(
            layer, str(tmp_path / "b"), input_spec=SPEC, isolate=True
        ),
        "failing export": lambda: export(
            layer, str(tmp_path / "c"), input_spec=[InputSpec([2, 5])]
        ),
    }
    for name, run in runs.items():
        try:
            run()
        except CaptureError:
            pass
        after = _layer_state(layer)
        changed = [
            k
            for k in before["params"]
            if not np.array_equal(before["params"][k], after["params"][k])
        ]
        changed += [k for k in before if k != "params" and before[k] != after[k]]
        out_after = _eval_output(layer, x)
        # The same computation, bit for bit up to float reassociation in the kernels.
        if not np.allclose(out_before, out_after, rtol=1e-6, atol=1e-7):
            changed.append(f"output (max diff {np.abs(out_before - out_after).max():.3g})")
        same = not changed
        reliability.record(
            "surprises",
            f"the layer after {name} (in {mode} mode)",
            "same parameters, mode, forward and output",
            "unchanged" if same else f"changed: {changed}",
            "pass" if same else "wrong",
        )
        assert same, f"{name} changed {changed}"
