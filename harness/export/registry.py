"""The mapping registry: Paddle PIR op name -> mapping with per-opset variants."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# The lowest opset this exporter writes.
MIN_OPSET = 11


class Unsupported(Exception):
    """Raised by a mapping for a case it cannot export (an attribute value, a dtype...).

    The exporter collects these with the ops that have no mapping and reports them all in
    one error. ``needs_opset`` says which opset would make it work, when that is the reason.
    """

    def __init__(self, reason: str, needs_opset: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.needs_opset = needs_opset


@dataclass(frozen=True)
class Variant:
    """One way to convert an op, valid from opset ``since`` upwards."""

    since: int
    fn: Callable


@dataclass(frozen=True)
class Mapping:
    """Every variant registered for one Paddle op, lowest opset first."""

    op: str
    family: str
    variants: tuple[Variant, ...]

    @property
    def lowest_opset(self) -> int:
        return max(MIN_OPSET, self.variants[0].since)

    def variant_for(self, opset: int) -> Variant | None:
        """Return the highest variant at or below ``opset``."""
        chosen = None
        for variant in self.variants:
            if variant.since <= opset:
                chosen = variant
        return chosen


_REGISTRY: dict[str, Mapping] = {}


def register(op: str, since: int = MIN_OPSET, module: str | None = None):
    """Register the decorated function as the variant of ``op`` valid from ``since``.

    The function is called as ``fn(ctx, op)`` with an ExportContext and the graph Op.
    Registering the same op and opset twice is an error. The family is the name of the
    module defining ``fn`` (or ``module``, for mappings made by a shared factory).
    """

    def decorate(fn):
        family = (module or fn.__module__).rsplit(".", 1)[-1]
        old = _REGISTRY.get(op)
        variants = () if old is None else old.variants
        if any(v.since == since for v in variants):
            raise RuntimeError(f"{op} already has a variant since opset {since}")
        if old is not None and old.family != family:
            raise RuntimeError(f"{op} is registered in families {old.family!r} and {family!r}")
        merged = tuple(sorted(variants + (Variant(since, fn),), key=lambda v: v.since))
        _REGISTRY[op] = Mapping(op, family, merged)
        return fn

    return decorate


def register_direct(table: dict[str, str], module: str) -> None:
    """Register each Paddle op of ``table`` as the ONNX op it names, same operands in order.

    For ops whose semantics and attributes (none) match one ONNX op exactly; ``module``
    is the calling family's ``__name__``.
    """
    for op, onnx_op in table.items():
        register(op, module=module)(_direct(onnx_op))


def _direct(onnx_op: str):
    def convert(ctx, op):
        inputs = [ctx.input(op, i) for i in range(len(op.inputs))]
        ctx.node(onnx_op, inputs, [ctx.out(op)])

    convert.__doc__ = f"Map to {onnx_op}; the op has no attributes."
    return convert


def registry() -> dict[str, Mapping]:
    """Return every registered mapping by PIR op name (loading all family modules)."""
    # Importing the package imports every family module, which fills the registry.
    importlib.import_module("harness.export")
    return dict(_REGISTRY)


def lookup(op: str) -> Mapping | None:
    return registry().get(op)
