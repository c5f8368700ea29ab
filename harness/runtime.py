"""ONNX Runtime facts and sessions: which opsets it runs, which providers it has."""

from __future__ import annotations

import functools
import logging

import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from harness.errors import ProviderUnavailableError

logger = logging.getLogger(__name__)

PROVIDER_ALIASES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
}


def ir_version_for(opset: int) -> int:
    """Return the lowest ONNX IR version whose release carries ``opset``."""
    best = None
    for _release, ir, ai_onnx, *_ in helper.VERSION_TABLE:
        if ai_onnx >= opset and (best is None or ir < best):
            best = ir
    return best if best is not None else onnx.IR_VERSION


@functools.cache
def max_runtime_opset() -> int:
    """Return the highest default-domain opset the installed ONNX Runtime can load."""
    for opset in range(onnx.defs.onnx_opset_version(), 6, -1):
        if _runs_opset(opset):
            return opset
    raise RuntimeError("the installed onnxruntime loads no opset >= 7")


def _runs_opset(opset: int) -> bool:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "probe", [x], [y])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=ir_version_for(opset)
    )
    try:
        ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception:
        return False
    return True


def provider_name(provider: str) -> str:
    return PROVIDER_ALIASES.get(provider.lower(), provider)


def available_providers() -> list[str]:
    return list(ort.get_available_providers())


def session(model_bytes_or_path, provider: str, threads: int = 1) -> ort.InferenceSession:
    """Open a session on exactly ``provider``; never fall back to another provider silently.

    Raises ProviderUnavailableError when the provider is missing or did not take the model.
    """
    provider = provider_name(provider)
    if provider not in available_providers():
        raise ProviderUnavailableError(
            f"{provider} is not available in this onnxruntime build "
            f"(available: {', '.join(available_providers())}); "
            "install onnxruntime-gpu on a CUDA machine to run it"
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    sess = ort.InferenceSession(model_bytes_or_path, options, providers=[provider])
    used = sess.get_providers()
    if not used or used[0] != provider:
        raise ProviderUnavailableError(
            f"asked for {provider}, but onnxruntime opened the session on {used}"
        )
    return sess
