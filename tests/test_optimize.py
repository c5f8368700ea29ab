"""Graph clean-up passes keep results identical and leave fewer nodes."""

import numpy as np
import onnx
import paddle
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from harness import export
from harness.export.optimize import optimize


def _run(model, feeds):
    return ReferenceEvaluator(model).run(None, feeds)


def test_conv_bias_add_becomes_the_conv_bias(tmp_path):
    with paddle.utils.unique_name.guard():
        layer = paddle.nn.Sequential(paddle.nn.Conv2D(3, 4, 3), paddle.nn.ReLU())
    spec = paddle.static.InputSpec([None, 3, 8, 8], "float32", "x")
    result = export(layer, tmp_path / "conv", input_spec=[spec])
    ops = [n.op_type for n in onnx.load(result.path).graph.node]
    assert ops == ["Conv", "Relu"]
    assert result.verified


def _model(nodes, inputs, outputs, inits):
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_layout_ops_on_constants_are_folded_and_values_kept():
    w = numpy_helper.from_array(np.arange(6, dtype="float32"), "w")
    shape = numpy_helper.from_array(np.array([2, 3], "int64"), "shape")
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2, 3])
    nodes = [
        helper.make_node("Reshape", ["w", "shape"], ["w2"]),
        helper.make_node("Add", ["x", "w2"], ["y"]),
    ]
    model = _model(nodes, [x], [y], [w, shape])
    feeds = {"x": np.ones((2, 3), "float32")}
    want = _run(model, feeds)[0]
    optimize(model)
    assert [n.op_type for n in model.graph.node] == ["Add"]
    np.testing.assert_array_equal(_run(model, feeds)[0], want)


def test_arithmetic_on_constants_is_left_to_the_runtime():
    a = numpy_helper.from_array(np.array([0.1], "float32"), "a")
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])
    nodes = [helper.make_node("Exp", ["a"], ["e"]), helper.make_node("Add", ["x", "e"], ["y"])]
    model = optimize(_model(nodes, [x], [y], [a]))
    assert [n.op_type for n in model.graph.node] == ["Exp", "Add"]


def test_a_bias_that_is_not_per_channel_is_not_fused():
    w = numpy_helper.from_array(np.ones((4, 3, 1, 1), "float32"), "w")
    b = numpy_helper.from_array(np.ones((1, 1, 1, 5), "float32"), "b")  # along W
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 5, 5])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4, 5, 5])
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"]),
        helper.make_node("Add", ["c", "b"], ["y"]),
    ]
    model = optimize(_model(nodes, [x], [y], [w, b]))
    assert [n.op_type for n in model.graph.node] == ["Conv", "Add"]
