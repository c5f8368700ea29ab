"""Fixtures of the reliability group: saved models to break, and the check recorder.

Every check goes through ``reliability.check``: it runs the attempt in a forked child
(so a native crash is counted instead of ending the run), asserts that it ended as
declared, and writes a ``kind="reliability"`` record that ``reports/reliability.md`` is
rendered from. The plugin prints the tally at the end of the run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import paddle
import pytest

from harness.isolation import ChildOutcome, run_in_child
from harness.paddle_env import paddle_guard
from harness.results import versions

HERE = Path(__file__).parent
# A check that takes longer than this is a hang, and is recorded as one.
CHECK_TIMEOUT = 120


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.reliability)


class Reliability:
    """Run one check, assert it ended as declared, and record it."""

    def __init__(self, request, store):
        self.request = request
        self.store = store

    def check(
        self,
        category: str,
        name: str,
        fn,
        expect: type | None,
        contains: tuple[str, ...] = (),
        bad_input: bool = True,
    ) -> ChildOutcome:
        """Run ``fn()`` in a child; it must raise ``expect`` (or return, if None).

        ``contains`` are pieces the error message must hold: what was expected, what
        arrived, where, and what to do.
        """
        outcome = run_in_child(fn, timeout=CHECK_TIMEOUT)
        if expect is None:
            handled = outcome.kind == "returned"
        else:
            handled = outcome.raised(expect)
        missing = [c for c in contains if c not in outcome.message]
        status = (
            "crash" if outcome.crashed else ("pass" if handled and not missing else "wrong")
        )
        declared = "returns" if expect is None else f"raises {expect.__name__}"
        self.record(category, name, declared, outcome.describe(), status, bad_input)
        assert not outcome.crashed, f"{name}: {outcome.describe()}"
        assert handled, f"{name}: expected it to {declared}, it {outcome.describe()}"
        assert not missing, f"{name}: the message lacks {missing}: {outcome.message}"
        return outcome

    def record(self, category, name, declared, outcome, status, bad_input=False) -> None:
        """Record a check whose outcome the test established by itself."""
        record = {
            "kind": "reliability",
            "category": category,
            "case": name,
            "target": name,
            "declared": declared,
            "outcome": outcome[:300],
            "status": status,
            "bad_input": bad_input,
            "test": self.request.node.nodeid,
        }
        self.request.node.user_properties.append(("reliability", record))
        if self.store is not None:
            self.store.append({**record, "versions": versions()})


@pytest.fixture
def reliability(request, harness_config):
    return Reliability(request, harness_config.store)


# --- saved models to break ----------------------------------------------------------------


class Net(paddle.nn.Layer):
    def __init__(self, n=4, extra=False):
        super().__init__()
        self.fc = paddle.nn.Linear(n, 3)
        self.fc2 = paddle.nn.Linear(3, 3) if extra else None

    def forward(self, x):
        y = paddle.nn.functional.relu(self.fc(x))
        return self.fc2(y) if self.fc2 is not None else y


class Odd(paddle.nn.Layer):
    """Two ops no mapping knows: lgamma twice, digamma once."""

    def forward(self, x):
        return paddle.lgamma(x) + paddle.lgamma(x * 2.0) + paddle.digamma(x)


def _save_all(out: Path, prefix: str) -> None:
    def spec(n):
        return [paddle.static.InputSpec([None, n], "float32", "x")]

    with paddle.utils.unique_name.guard():
        paddle.jit.save(Net(), str(out / prefix / "model"), input_spec=spec(4))
    with paddle.utils.unique_name.guard():
        paddle.jit.save(Net(5), str(out / f"{prefix}_shape" / "model"), input_spec=spec(5))
    with paddle.utils.unique_name.guard():
        paddle.jit.save(
            Net(extra=True), str(out / f"{prefix}_extra" / "model"), input_spec=spec(4)
        )
    if prefix == "pir":
        paddle.jit.save(Odd(), str(out / "unsupported" / "model"), input_spec=spec(4))


# A legacy .pdmodel is only written with FLAGS_enable_pir_api=0 set before Paddle is
# imported: that takes a process of its own.
_LEGACY = """
import os, sys
os.environ["GLOG_minloglevel"] = "2"
os.environ["FLAGS_enable_pir_api"] = "0"
from pathlib import Path
sys.path.insert(0, {here!r})
import conftest
conftest._save_all(Path(sys.argv[1]), "legacy")
"""


@pytest.fixture(scope="session")
def saved_models(tmp_path_factory) -> Path:
    """Folders of small saved models: pir, pir_shape (Linear(5, 3)), pir_extra (one more
    Linear), the same three as legacy ``.pdmodel`` (legacy*), and unsupported."""
    out = tmp_path_factory.mktemp("saved")
    proc = subprocess.Popen(
        [sys.executable, "-c", _LEGACY.format(here=str(HERE)), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with paddle_guard():
        _save_all(out, "pir")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-2000:]
    return out
