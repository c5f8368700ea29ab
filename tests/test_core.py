"""The harness's own machinery: registry, opset choice, comparison, records, runner, report."""

import importlib
import json
import re
import multiprocessing
import os

import numpy as np
import onnx
import paddle
import pytest
from hypothesis import strategies as st

from harness.cases import OpCase
from harness.cases.runner import CaseFailure, RunConfig, run_case
from harness.cases.strategies import Input, fn_layer, program
from harness.errors import OpsetError, OpsetTooLowError, UnsupportedOpsError
from harness.export import registry, to_onnx
from harness.export.registry import MIN_OPSET, Mapping, Variant
from harness.graph import Graph, Op, Value
from harness.report import render_op_list
from harness.results import ResultStore
from harness.runtime import max_runtime_opset
from harness.verify import Tolerance, compare, tolerance_for

# `harness.export` the function shadows the package attribute; import the module by name.
registry_module = importlib.import_module("harness.export.registry")


def _relu_graph(op_name="pd_op.relu", count=1) -> Graph:
    values = {"x": Value("x", (None, 3), "float32")}
    ops, last = [], "x"
    for i in range(count):
        out = f"y{i}"
        values[out] = Value(out, (None, 3), "float32")
        ops.append(Op(op_name, {}, [last], [out], ["x"], i))
        last = out
    return Graph(ops, ["x"], [last], values, {})


# --- registry and opsets ------------------------------------------------------------------


def test_variant_resolution_picks_highest_at_or_below_target():
    def v11(ctx, op):
        pass

    def v13(ctx, op):
        pass

    m = Mapping("pd_op.fake", "fake", (Variant(11, v11), Variant(13, v13)))
    assert m.variant_for(11).fn is v11
    assert m.variant_for(12).fn is v11
    assert m.variant_for(13).fn is v13
    assert m.variant_for(20).fn is v13
    assert m.variant_for(10) is None
    assert m.lowest_opset == MIN_OPSET


def test_registering_the_same_op_and_opset_twice_is_refused():
    registry()  # load every family first
    name = "pd_op.__test_duplicate"
    try:
        registry_module.register(name, since=11)(lambda ctx, op: None)
        with pytest.raises(RuntimeError, match="already has a variant"):
            registry_module.register(name, since=11)(lambda ctx, op: None)
    finally:
        registry_module._REGISTRY.pop(name, None)


def test_no_opset_given_picks_one_and_says_which():
    exported = to_onnx(_relu_graph())
    assert MIN_OPSET <= exported.opset <= max_runtime_opset()
    assert exported.model.opset_import[0].version == exported.opset


@pytest.mark.parametrize("opset", [5, 10, 999, "17", 17.0, True])
def test_opsets_outside_the_range_are_refused_up_front(opset):
    with pytest.raises(OpsetError, match="opset"):
        to_onnx(_relu_graph(), opset)


def test_explicit_opset_below_an_ops_lowest_is_refused_naming_op_and_opset():
    name = "pd_op.__test_needs_15"
    registry_module.register(name, since=15)(
        lambda ctx, op: ctx.node("Relu", [ctx.input(op, 0)], [ctx.out(op)])
    )
    try:
        graph = _relu_graph(name, count=2)
        with pytest.raises(OpsetTooLowError) as info:
            to_onnx(graph, 13)
        assert name in str(info.value) and "needs opset 15" in str(info.value)
        assert info.value.unsupported[0].count == 2
        assert to_onnx(graph).opset >= 15
    finally:
        registry_module._REGISTRY.pop(name, None)


def test_every_unsupported_op_is_listed_in_one_error_with_counts():
    graph = _relu_graph("pd_op.__nobody_maps_this", count=3)
    graph.ops.append(Op("pd_op.__nor_this", {}, ["y2"], ["z"], [], 3))
    graph.values["z"] = Value("z", (None, 3), "float32")
    graph.outputs = ["z"]
    with pytest.raises(UnsupportedOpsError) as info:
        to_onnx(graph, 17)
    text = str(info.value)
    assert "pd_op.__nobody_maps_this (3 times)" in text
    assert "pd_op.__nor_this (1 time)" in text


def test_dynamic_input_dims_stay_symbolic():
    model = to_onnx(_relu_graph(), 17).model
    dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param and not dim.HasField("dim_value")
    onnx.checker.check_model(model, full_check=True)


# --- comparison -----------------------------------------------------------------------------


def test_shapes_must_match_exactly_no_squeezing():
    check = compare(0, np.zeros((1, 3), "float32"), np.zeros((3,), "float32"))
    assert not check.ok and "shape" in check.problem


def test_dtypes_must_match_exactly():
    check = compare(0, np.zeros(3, "int32"), np.zeros(3, "int64"))
    assert not check.ok and "dtype" in check.problem


def test_nan_and_inf_positions_must_agree():
    want = np.array([1.0, np.nan, np.inf, -np.inf], "float32")
    assert compare(0, want.copy(), want).ok
    moved = np.array([np.nan, 1.0, np.inf, -np.inf], "float32")
    assert not compare(0, moved, want).ok
    flipped = np.array([1.0, np.nan, -np.inf, -np.inf], "float32")
    assert not compare(0, flipped, want).ok


def test_tolerance_policy_is_data_per_dtype_with_overrides():
    assert tolerance_for("float32") == Tolerance(1e-5, 1e-5)
    assert tolerance_for("int64") == Tolerance(0.0, 0.0)
    assert tolerance_for("float32", {"float32": (1e-3, 0)}) == Tolerance(1e-3, 0)
    want = np.ones(4, "float32")
    got = want + np.float32(2e-4)
    assert not compare(0, got, want).ok
    assert compare(0, got, want, {"float32": (1e-3, 0)}).ok


def test_metrics_report_abs_rel_and_mismatch_fraction():
    want = np.array([1.0, 2.0, 4.0, 8.0], "float32")
    got = want.copy()
    got[3] = 8.5
    check = compare(0, got, want)
    assert check.max_abs == pytest.approx(0.5)
    assert check.max_rel == pytest.approx(0.5 / 8)
    assert check.mismatch == pytest.approx(0.25)


def test_integer_outputs_compare_exactly():
    assert not compare(0, np.array([1, 2], "int64"), np.array([1, 3], "int64")).ok


# --- records ----------------------------------------------------------------------------------


def _write_many(path, worker, n):
    store = ResultStore(path)
    for i in range(n):
        store.append({"kind": "op", "worker": worker, "i": i, "pad": "x" * 5000})


def test_shards_from_concurrent_processes_merge_without_loss(tmp_path):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_many, args=(tmp_path, w, 200)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    records = ResultStore(tmp_path).read()
    assert len(records) == 800
    assert {(r["worker"], r["i"]) for r in records} == {
        (w, i) for w in range(4) for i in range(200)
    }


def test_a_torn_last_line_is_skipped_and_the_rest_kept(tmp_path):
    store = ResultStore(tmp_path)
    store.append({"kind": "op", "i": 1})
    shard = next(tmp_path.glob("*.jsonl"))
    with open(shard, "ab") as f:
        f.write(b'{"kind": "op", "i": 2')  # an interrupted write
    assert [r["i"] for r in store.read()] == [1]


def test_records_carry_what_was_run_and_versions(tmp_path):
    case = OpCase("pd_op.relu", "probe", _relu_programs(), "paddle.nn.functional.relu")
    config = RunConfig(opsets=[13], store=ResultStore(tmp_path))
    run_case(case, _draw(_relu_programs()), config)
    (record,) = ResultStore(tmp_path).read()
    for key in (
        "kind",
        "target",
        "case",
        "opset",
        "dtypes",
        "provider",
        "dynamic",
        "seed",
        "versions",
        "status",
        "max_abs",
        "max_rel",
        "mismatch",
        "seconds",
        "run",
    ):
        assert key in record, key
    assert record["status"] == "pass" and record["opset"] == 13
    assert record["versions"]["paddle"] == paddle.__version__
    json.dumps(record)


# --- runner -------------------------------------------------------------------------------------


def _relu(x):
    return paddle.nn.functional.relu(x)


@st.composite
def _relu_programs(draw):
    return program(draw, fn_layer(_relu), [Input("x", ("n", 3))], {"n": 2}, ["n"])


def _draw(strategy):
    from hypothesis import Phase, find, settings

    # One generated example, no shrinking: these tests need a program, not a search.
    return find(
        strategy,
        lambda p: True,
        settings=settings(max_examples=1, phases=[Phase.generate], database=None),
    )


def test_runner_fails_a_case_whose_program_lacks_the_target_op():
    case = OpCase("pd_op.conv2d", "wrong", _relu_programs(), "paddle.nn.Conv2D")
    with pytest.raises(CaseFailure, match="has no pd_op.conv2d"):
        run_case(case, _draw(_relu_programs()), RunConfig(opsets=[13], store=None))


def test_dynamic_cases_run_at_several_sizes_including_one():
    prog = _draw(_relu_programs())
    sizes = [inputs[0].shape[0] for inputs in prog.input_sets]
    assert 1 in sizes and len(set(sizes)) >= 2
    verdicts = run_case(
        OpCase("pd_op.relu", "dyn", None, ""), prog, RunConfig(opsets=[13], store=None)
    )
    assert verdicts and all(v.ok for v in verdicts)
    assert len(verdicts[0].input_shapes) == len(prog.input_sets)


def test_runner_detects_a_wrong_mapping(monkeypatch):
    mapping = registry()["pd_op.relu"]

    def wrong(ctx, op):
        ctx.node("Sigmoid", [ctx.input(op, 0)], [ctx.out(op)])

    monkeypatch.setitem(
        registry_module._REGISTRY,
        "pd_op.relu",
        Mapping(mapping.op, mapping.family, (Variant(11, wrong),)),
    )
    with pytest.raises(CaseFailure, match="mismatch"):
        run_case(
            OpCase("pd_op.relu", "wrong", None, ""),
            _draw(_relu_programs()),
            RunConfig(opsets=[13], store=None),
        )


def test_cuda_leg_is_not_run_with_a_reason_when_unavailable():
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        verdicts = run_case(
            OpCase("pd_op.relu", "cuda", None, ""),
            _draw(_relu_programs()),
            RunConfig(opsets=[13], providers=["cuda"], store=None),
        )
        assert verdicts[0].provider == "CUDAExecutionProvider" and verdicts[0].ok
    else:
        verdicts = run_case(
            OpCase("pd_op.relu", "cuda", None, ""),
            _draw(_relu_programs()),
            RunConfig(opsets=[13], providers=["cuda"], store=None),
        )
        assert verdicts[0].status == "not_run"
        assert "not available" in verdicts[0].reason


# --- report ---------------------------------------------------------------------------------------


def test_op_list_shows_only_what_records_verified():
    base = {
        "kind": "op",
        "paddle_api": "api",
        "dtypes": ["float32"],
        "dynamic": False,
        "provider": "CPUExecutionProvider",
        "max_abs": 0.0,
        "max_rel": 0.0,
        "expected_failure": None,
        "onnx_ops": ["Relu"],
    }
    records = [
        {**base, "target": "pd_op.relu", "case": "relu-a", "opset": 13, "status": "pass"},
        {**base, "target": "pd_op.relu", "case": "relu-a", "opset": 14, "status": "pass"},
        {
            **base,
            "target": "pd_op.tanh",
            "case": "tanh-a",
            "opset": 13,
            "status": "mismatch",
            "reason": "1 of 4 elements differ",
        },
        {
            **base,
            "target": "pd_op.gelu",
            "case": "gelu-x",
            "opset": 13,
            "status": "mismatch",
            "expected_failure": "a declared gap",
        },
    ]
    text = render_op_list(records)
    verified = text.split("## ")[0]
    assert "`pd_op.relu`" in verified and "13-14" in verified
    assert "`pd_op.tanh`" not in verified and "`pd_op.gelu`" not in verified
    assert "a declared gap" in text
    assert "**1 ops verified.**" in text


def test_environment_variables_do_not_leak_from_the_plugin():
    assert os.environ.get("GLOG_minloglevel") == "2"


def test_constants_are_resolved_through_a_cast():
    values = {"a": Value("a", (2,), "int64"), "b": Value("b", (2,), "int32")}
    ops = [
        Op("pd_op.full_int_array", {"value": [3, 4]}, [], ["a"]),
        Op("pd_op.cast", {"dtype": "int32"}, ["a"], ["b"]),
    ]
    graph = Graph(ops, [], ["b"], values, {})
    value = graph.constant("b")
    assert value.dtype == np.int32 and value.tolist() == [3, 4]


def test_a_pipe_in_an_api_name_does_not_break_the_table():
    record = {
        "kind": "op",
        "target": "pd_op.bitwise_or",
        "case": "bitwise_or-a",
        "opset": 13,
        "status": "pass",
        "paddle_api": "paddle.bitwise_or / x | y",
        "dtypes": ["bool"],
        "provider": "CPUExecutionProvider",
        "max_abs": 0.0,
        "max_rel": 0.0,
    }
    row = next(line for line in render_op_list([record]).splitlines() if "bitwise_or" in line)
    unescaped = len(re.findall(r"(?<!\\)\|", row))
    assert "x \\| y" in row and unescaped == 11  # 10 columns
