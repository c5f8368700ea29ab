"""Nothing lost: model files and records survive interruption, kills and concurrency."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from harness import cli, io
from harness.errors import ExportError
from harness.isolation import run_in_child
from harness.results import ResultStore


def _model(n: int, value: float) -> onnx.ModelProto:
    """y = x + w with w of ``n`` floats: a model of any size, built without Paddle."""
    w = numpy_helper.from_array(np.full([n], value, "float32"), "w")
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])],
        [w],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _weight(path) -> float:
    model = onnx.load(str(path))
    return float(numpy_helper.to_array(model.graph.initializer[0])[0])


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_an_interrupted_save_leaves_the_old_model_whole(reliability, tmp_path, monkeypatch):
    target = tmp_path / "m.onnx"
    io.save_model(_model(16, 1.0), target)

    def interrupted(*args):
        raise KeyboardInterrupt  # Ctrl-C between writing the temporary file and the rename

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        io.save_model(_model(16, 2.0), target)
    monkeypatch.undo()
    assert _weight(target) == 1.0 and _leftovers(tmp_path) == []

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(ExportError, match="No space left on device.*unchanged"):
        io.save_model(_model(16, 3.0), target)
    monkeypatch.undo()
    assert _weight(target) == 1.0 and _leftovers(tmp_path) == []
    reliability.record(
        "durability",
        "save interrupted by Ctrl-C, then by a full disk",
        "old model whole, no temporary file left",
        "old model whole, no temporary file left",
        "pass",
    )


def test_an_interrupted_external_data_save_keeps_the_old_pair(
    reliability, tmp_path, monkeypatch
):
    target = tmp_path / "m.onnx"
    io.save_model(_model(4096, 1.0), target, threshold=1024)
    (old_data,) = io.external_data_files(target)
    real = os.replace
    calls = []

    def fail_on_the_model(src, dst):
        calls.append(dst)
        if str(dst) == str(target):
            raise KeyboardInterrupt  # the new data file is in place, the model not yet
        real(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_the_model)
    with pytest.raises(KeyboardInterrupt):
        io.save_model(_model(4096, 2.0), target, threshold=1024)
    monkeypatch.undo()
    # The old model still names its own data file, which is untouched.
    assert old_data.exists() and _weight(target) == 1.0
    onnx.checker.check_model(str(target), full_check=True)
    # The next complete save cleans up the orphaned data file and the old one.
    io.save_model(_model(4096, 3.0), target, threshold=1024)
    assert _weight(target) == 3.0 and len(io.external_data_files(target)) == 1
    reliability.record(
        "durability",
        "external-data save interrupted between data and model",
        "old model and its data whole; next save cleans up",
        "old model and its data whole; next save cleans up",
        "pass",
    )


def test_a_killed_writer_never_leaves_a_truncated_model(reliability, tmp_path):
    target = tmp_path / "m.onnx"
    io.save_model(_model(16, 1.0), target)
    big = _model(50_000_000, 2.0)  # 200 MB: the kill lands while it is being written
    outcome = run_in_child(io.save_model, big, target, timeout=0.3)
    weight = _weight(target)  # parses completely: the old model or the new one
    ok = outcome.kind in ("timed_out", "returned") and weight in (1.0, 2.0)
    reliability.record(
        "durability",
        "writer killed (SIGKILL) while saving 200 MB over a model",
        "the old model or the new one, whole",
        f"child {outcome.describe()}; the file holds the {'old' if weight == 1.0 else 'new'} "
        "model, whole",
        "pass" if ok else "wrong",
    )
    assert ok


def _append_many(store, worker, n, pad):
    for i in range(n):
        store.append({"kind": "op", "worker": worker, "i": i, "pad": pad})


def test_concurrent_writers_never_interleave_inside_a_line(reliability, tmp_path):
    # Forked children share one store, hence one shard file (as isolated cases do), and
    # write lines far larger than a pipe's atomic size.
    store = ResultStore(tmp_path)
    pad = "x" * 200_000
    pids = []
    for worker in range(4):
        pid = os.fork()
        if pid == 0:
            try:
                _append_many(store, worker, 50, pad)
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    (shard,) = tmp_path.glob("*.jsonl")
    lines = shard.read_bytes().splitlines()
    parsed = [json.loads(line) for line in lines]  # every line is one whole record
    ok = len(parsed) == 200 and {(r["worker"], r["i"]) for r in parsed} == {
        (w, i) for w in range(4) for i in range(50)
    }
    reliability.record(
        "durability",
        "4 processes appending 200 KB records to one shard",
        "200 whole lines",
        f"{len(parsed)} whole lines",
        "pass" if ok else "wrong",
    )
    assert ok


def test_a_torn_line_from_a_killed_writer_costs_only_itself(reliability, tmp_path):
    store = ResultStore(tmp_path)
    store.append({"kind": "op", "i": 1})
    (shard,) = tmp_path.glob("*.jsonl")
    with open(shard, "ab") as f:
        f.write(b'{"kind": "op", "i": 2, "pad": "xx')  # killed mid-write
    store.append({"kind": "op", "i": 3})  # ends the torn line before its own
    kept = [r["i"] for r in store.read()]
    reliability.record(
        "durability",
        "a record appended after a torn line",
        "records 1 and 3 kept, the torn one skipped",
        f"records {kept} kept",
        "pass" if kept == [1, 3] else "wrong",
    )
    assert kept == [1, 3]


def test_ctrl_c_keeps_every_record_and_reports_render(reliability, tmp_path):
    records, reports = tmp_path / "records", tmp_path / "reports"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            "--no-models",
            "-k",
            "relu or tanh or sigmoid or add or multiply",
            "--records",
            str(records),
            "--reports",
            str(reports),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if sum(len(p.read_bytes().splitlines()) for p in records.glob("*.jsonl")) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)

    lines = [line for p in records.glob("*.jsonl") for line in p.read_bytes().splitlines()]
    parsed = [json.loads(line) for line in lines]  # no torn or broken line
    assert len(parsed) >= 2 and len(ResultStore(records).read()) == len(parsed)
    assert (reports / "op_list.md").exists(), out + err
    # And a report of the partial records renders on its own, later.
    assert (
        cli.main(["report", "--records", str(records), "--reports", str(tmp_path / "r2")]) == 0
    )
    op_list = (tmp_path / "r2" / "op_list.md").read_text()
    ok = proc.returncode == 2 and "verified" in op_list
    reliability.record(
        "durability",
        "harness run interrupted with SIGINT",
        "exit 2, every record whole, reports render from the partial records",
        f"exit {proc.returncode}, {len(parsed)} whole records, reports rendered",
        "pass" if ok else "wrong",
    )
    assert ok, f"exit {proc.returncode}\n{out[-2000:]}\n{err[-2000:]}"
