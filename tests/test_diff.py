"""Nightly comparison of a run's records with a baseline's."""

import subprocess
import sys

from harness.diff import diff, render
from harness.results import ResultStore


def _r(case, opset, status, xfail=None):
    return {
        "kind": "op",
        "case": case,
        "opset": opset,
        "provider": "CPUExecutionProvider",
        "status": status,
        "expected_failure": xfail,
    }


def test_broken_fixed_new_and_gone_keys_are_found():
    baseline = [
        _r("relu-a", 13, "pass"),
        _r("tanh-a", 13, "mismatch"),
        _r("old-a", 13, "pass"),
    ]
    current = [
        _r("relu-a", 13, "pass"),
        _r("relu-a", 13, "mismatch"),
        _r("tanh-a", 13, "pass"),
        _r("new-a", 13, "pass"),
    ]
    changes = diff(baseline, current)
    assert [c[1] for c in changes["broke"]] == ["relu-a"]
    assert [c[1] for c in changes["fixed"]] == ["tanh-a"]
    assert [c[1] for c in changes["new"]] == ["new-a"]
    assert [c[1] for c in changes["gone"]] == ["old-a"]
    assert "| broke | 1 |" in render(baseline, current)


def test_expected_failures_and_not_run_legs_are_not_breakages():
    baseline = [_r("gelu-x", 13, "pass")]
    current = [_r("gelu-x", 13, "mismatch", xfail="declared"), _r("gelu-x", 13, "not_run")]
    assert diff(baseline, current)["broke"] == []


def test_report_baseline_writes_changes_md(tmp_path):
    old, new, out = tmp_path / "old", tmp_path / "new", tmp_path / "out"
    ResultStore(old).append(_r("relu-a", 13, "pass"))
    ResultStore(new).append(_r("relu-a", 13, "mismatch"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "report",
            "--records",
            str(new),
            "--reports",
            str(out),
            "--baseline",
            str(old),
        ],
        check=True,
        capture_output=True,
    )
    text = (out / "changes.md").read_text()
    assert "| broke | 1 |" in text and "relu-a" in text
