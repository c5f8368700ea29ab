"""A native crash inside one case is that case's result; the run goes on."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import paddle
import pytest
from hypothesis import strategies as st

from harness import cli
from harness.cases import OpCase
from harness.cases.runner import CaseFailure, RunConfig, run_case, run_test_isolated
from harness.cases.spec import CaseProgram
from harness.errors import UnsupportedOp, UnsupportedOpsError
from harness.isolation import run_in_child
from harness.pytest_plugin import isolate_by_default
from harness.results import ResultStore


def _segfault():
    ctypes.string_at(0)


def _raise_unsupported():
    raise UnsupportedOpsError([UnsupportedOp("pd_op.x", 2, "no mapping")], 17)


class _Unpicklable:
    def __reduce__(self):
        raise TypeError("no pickling")


def test_a_child_reports_every_way_it_can_end(reliability):
    checks = {
        "segfault": (_segfault, "crashed", "SIGSEGV"),
        "abort": (os.abort, "crashed", "SIGABRT"),
        "hang": (lambda: time.sleep(60), "timed_out", "SIGKILL"),
        "os._exit(3)": (lambda: os._exit(3), "crashed", ""),
    }
    for name, (fn, kind, signal) in checks.items():
        outcome = run_in_child(fn, timeout=2)
        ok = outcome.kind == kind and outcome.signal == signal
        reliability.record("isolation", f"child: {name}", kind, outcome.describe(), _ok(ok))
        assert ok, (name, outcome)

    outcome = run_in_child(_raise_unsupported)
    assert outcome.raised(UnsupportedOpsError)
    # Rebuilt with its attributes, though its __init__ takes other arguments than args.
    assert isinstance(outcome.error, UnsupportedOpsError)
    assert outcome.error.unsupported[0].count == 2 and "pd_op.x (2 times)" in str(
        outcome.error
    )
    assert "_raise_unsupported" in outcome.traceback

    assert run_in_child(lambda: {"a": np.arange(3)}).value["a"].tolist() == [0, 1, 2]
    assert run_in_child(_Unpicklable).value.startswith("<")


def _ok(ok: bool) -> str:
    return "pass" if ok else "wrong"


def _relu_program():
    class Relu(paddle.nn.Layer):
        def forward(self, x):
            return paddle.nn.functional.relu(x)

    x = np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)
    return CaseProgram(Relu(), [paddle.static.InputSpec([2, 3], "float32", "x")], [[x]])


def test_an_isolated_case_runs_and_records_through_the_parents_store(tmp_path):
    store = ResultStore(tmp_path)
    case = OpCase("pd_op.relu", "isolated", st.nothing(), "paddle.nn.functional.relu")
    verdicts = run_case(case, _relu_program(), RunConfig([13], store=store, isolate=True))
    assert [v.status for v in verdicts] == ["pass"]
    assert [r["status"] for r in store.read()] == ["pass"]
    assert len(list(tmp_path.glob("*.jsonl"))) == 1, "the child wrote to the parent's shard"


# A test module of three cases: two crash natively while their program is traced (inside
# the isolated region), the third is an ordinary passing case.
_CRASHING_CASES = """
import ctypes, os
import numpy as np
import paddle
from hypothesis import settings, strategies as st
from harness.cases import OpCase, case_tests
from harness.cases.spec import CaseProgram

settings.register_profile("once", max_examples=1, database=None, deadline=None)
settings.load_profile("once")

def segfault():
    ctypes.string_at(0)

class Relu(paddle.nn.Layer):
    def __init__(self, crash=None):
        super().__init__()
        self.crash = crash

    def forward(self, x):
        if self.crash is not None:
            self.crash()
        return paddle.nn.functional.relu(x)

def programs(crash):
    spec = [paddle.static.InputSpec([2, 3], "float32", "x")]
    inputs = [[np.ones([2, 3], "float32")]]
    return st.builds(lambda: CaseProgram(Relu(crash), spec, inputs))

CASES = [
    OpCase("pd_op.relu", "segfault", programs(segfault), "relu"),
    OpCase("pd_op.relu", "abort", programs(os.abort), "relu"),
    OpCase("pd_op.relu", "fine", programs(None), "relu"),
]
test_crashing = case_tests(CASES)
"""


def test_a_run_with_crashing_cases_records_them_and_carries_on(reliability, tmp_path):
    module = tmp_path / "test_crashing.py"
    module.write_text(textwrap.dedent(_CRASHING_CASES))
    records = tmp_path / "records"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(module),
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "harness.pytest_plugin",
            "--isolate",
            f"--records={records}",
            "--opset=17",
            f"--rootdir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    tail = proc.stdout[-3000:]
    found = ResultStore(records).read()
    crashes = {r["case"]: r for r in found if r["status"] == "crash"}
    passed = {r["case"] for r in found if r["status"] == "pass"}
    ok = (
        proc.returncode == 1
        and "2 failed, 1 passed" in tail
        and crashes.get("relu-segfault", {}).get("signal") == "SIGSEGV"
        and "CaseProgram(Relu" in crashes["relu-segfault"].get("example", "")
        and crashes.get("relu-abort", {}).get("signal") == "SIGABRT"
        and passed == {"relu-fine"}
    )
    reliability.record(
        "isolation",
        "a run with a segfaulting and an aborting case",
        "both recorded as crashes with their signal, the third case passes",
        f"exit {proc.returncode}; crashes {sorted(crashes)}; passed {sorted(passed)}",
        _ok(ok),
    )
    assert ok, f"exit {proc.returncode}\n{tail}\n{proc.stderr[-2000:]}\n{found}"
    assert "crashed with SIGSEGV" in proc.stdout and "The run carries on" in proc.stdout


def test_a_hung_case_is_killed_and_recorded(reliability, tmp_path):
    store = ResultStore(tmp_path)
    case = OpCase("pd_op.relu", "hangs", st.nothing(), "relu")
    config = RunConfig([13], store=store, isolate=True, isolate_timeout=1)
    with pytest.raises(CaseFailure, match="timed out"):
        run_test_isolated(lambda: time.sleep(60), {}, case, config)
    (record,) = store.read()
    ok = record["status"] == "crash" and record["signal"] == "SIGKILL"
    reliability.record(
        "isolation",
        "a case that hangs",
        "killed, crash record",
        str(record["reason"]),
        _ok(ok),
    )
    assert ok and config.isolate, "the parent's config is left as it was"


def test_a_crash_only_examples_together_cause_is_recorded_against_the_case(tmp_path):
    store = ResultStore(tmp_path)
    case = OpCase("pd_op.relu", "together", st.nothing(), "relu")
    config = RunConfig([13], store=store, isolate=True)

    def test():
        if not config.isolate:  # in the case's child, never in an example's
            os.abort()

    with pytest.raises(CaseFailure, match="no example crashed on its own"):
        run_test_isolated(test, {}, case, config)
    assert [(r["status"], r["signal"]) for r in store.read()] == [("crash", "SIGABRT")]


class _Opt:
    def __init__(self, **values):
        self.values = values

    def __call__(self, name):
        return self.values.get(name.lstrip("-").replace("-", "_"), False)


@pytest.mark.parametrize(
    "profile, flags, expected",
    [
        ("ci", {}, False),
        ("ci", {"isolate": True}, True),
        ("nightly", {}, True),
        ("nightly", {"no_isolate": True}, False),
    ],
)
def test_nightly_isolates_by_default_and_quick_runs_on_request(profile, flags, expected):
    assert isolate_by_default(_Opt(**flags), profile) is expected


def test_harness_run_nightly_asks_pytest_to_isolate(tmp_path, monkeypatch):
    import pytest as pytest_module

    seen = []
    monkeypatch.setattr(pytest_module, "main", lambda args, plugins: seen.append(args) or 0)
    common = [
        "--records",
        str(tmp_path / "r"),
        "--reports",
        str(tmp_path / "p"),
        "--no-models",
    ]
    cli.main(["run", "--profile", "nightly", *common])
    cli.main(["run", "--profile", "nightly", "--no-isolate", *common])
    cli.main(["run", *common])
    assert ["--isolate" in args for args in seen] == [True, False, False]
