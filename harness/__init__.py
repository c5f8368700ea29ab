"""Paddle -> ONNX export, verified on ONNX Runtime against Paddle's own outputs."""

import os

# Paddle's C++ logging is chatty at INFO; this must be set before the first `import paddle`.
os.environ.setdefault("GLOG_minloglevel", "2")
