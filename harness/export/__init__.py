"""Export: the registry of mappings (one module per op family) and the converter.

Every module in this package other than the infrastructure ones is a family of mappings;
importing the package imports them all, so adding a family needs no other edit.
"""

import importlib
import pkgutil

_INFRASTRUCTURE = {"builder", "context", "converter", "optimize", "registry"}

for _info in pkgutil.iter_modules(__path__):
    if _info.name not in _INFRASTRUCTURE and not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")

from harness.export.converter import Exported, choose_opset, opset_range, to_onnx  # noqa: E402
from harness.export.registry import Unsupported, register, registry  # noqa: E402

__all__ = [
    "Exported",
    "Unsupported",
    "choose_opset",
    "opset_range",
    "register",
    "registry",
    "to_onnx",
]
