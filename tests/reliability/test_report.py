"""reports/reliability.md is rendered from the reliability records alone."""

from __future__ import annotations

from harness import reliability_report
from harness.report import render_all
from harness.results import ResultStore


def _r(category, case, status, t, bad=True, outcome="raised ModelFileError: x"):
    return {
        "kind": "reliability",
        "category": category,
        "case": case,
        "declared": "raises ModelFileError",
        "outcome": outcome,
        "status": status,
        "bad_input": bad,
        "time": t,
        "run": "r1",
    }


def test_the_summary_counts_each_check_once_as_it_last_ended():
    records = [
        _r("corrupt file", "json truncated", "wrong", 1, outcome="returned"),
        _r("corrupt file", "json truncated", "pass", 2),  # rerun later: now handled
        _r("path", "missing prefix", "pass", 3),
        _r(
            "isolation", "segfault case", "crash", 4, bad=False, outcome="crashed with SIGSEGV"
        ),
        {"kind": "op", "status": "pass", "time": 5},
    ]
    text = reliability_report.render(records)
    assert "**2 bad inputs tried, 1 crashes, 0 checks not ended as declared.**" in text
    assert "| corrupt file | 1 | 1 | 0 | raised ModelFileError |" in text
    assert "## Not ended as declared" in text and "segfault case" in text
    assert reliability_report.render([{"kind": "op"}]) is None


def test_render_all_writes_reliability_md_next_to_the_other_tables(tmp_path):
    store = ResultStore(tmp_path / "records")
    store.append(_r("path", "missing prefix", "pass", 1))
    written = render_all(store, tmp_path / "reports")
    assert "reliability.md" in written
    assert (
        "1 bad inputs tried, 0 crashes"
        in (tmp_path / "reports" / "reliability.md").read_text()
    )
