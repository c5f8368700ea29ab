"""Paddle -> ONNX export, verified on ONNX Runtime against Paddle's own outputs.

from harness import export
result = export(layer, "out/model", input_spec=[InputSpec([None, 3, 224, 224])])
"""

import logging
import os
import warnings

# Paddle's C++ logging is chatty at INFO; this must be set before the first `import paddle`.
os.environ.setdefault("GLOG_minloglevel", "2")
# Paddle warns on import when the ccache compiler cache is absent; it is irrelevant here.
warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
# `import paddle` installs an INFO handler on the root logger; keep our INFO lines quiet
# unless the caller sets a level on the "harness" logger.
if logging.getLogger(__name__).level == logging.NOTSET:
    logging.getLogger(__name__).setLevel(logging.WARNING)

from harness.api import ExportResult, export  # noqa: E402
from harness.errors import (  # noqa: E402
    BadArgumentError,
    CaptureError,
    ExportError,
    HarnessError,
    ModelFileError,
    OpsetError,
    UnsupportedOpsError,
    VerificationError,
)

__all__ = [
    "BadArgumentError",
    "CaptureError",
    "ExportError",
    "ExportResult",
    "HarnessError",
    "ModelFileError",
    "OpsetError",
    "UnsupportedOpsError",
    "VerificationError",
    "export",
]
