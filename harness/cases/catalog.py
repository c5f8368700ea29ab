"""Find every declared case: the ``CASES`` list of each module in op_cases/ and model_cases/."""

from __future__ import annotations

import importlib
import pkgutil

from harness.cases.spec import ModelCase, OpCase


def _modules(package_name: str):
    package = importlib.import_module(package_name)
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("test_"):
            yield importlib.import_module(f"{package_name}.{info.name}")


def op_cases() -> dict[str, list[OpCase]]:
    """Return the op cases of every family module, by family name."""
    found = {}
    for module in _modules("op_cases"):
        family = module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
        found[family] = [c for c in getattr(module, "CASES", []) if isinstance(c, OpCase)]
    return found


def model_cases() -> list[ModelCase]:
    return [
        c
        for m in _modules("model_cases")
        for c in getattr(m, "CASES", [])
        if isinstance(c, ModelCase)
    ]
