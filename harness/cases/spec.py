"""How a case is declared: which op it proves, how to draw a program, its tolerances."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class CaseProgram:
    """One drawn example: a layer, its input specs and the input sets to run it on.

    ``specs`` are ``paddle.static.InputSpec`` with ``None`` for dynamic dims. The first
    input set has the drawn sizes; dynamic exports add sets at other sizes, 1 included.
    """

    layer: Any
    specs: list
    input_sets: list[list[np.ndarray]]
    attrs: dict = field(default_factory=dict)
    seed: int | None = None

    @property
    def dynamic(self) -> bool:
        return any(d is None or d == -1 for s in self.specs for d in s.shape)

    @property
    def dtypes(self) -> list[str]:
        return sorted({str(x.dtype) for x in self.input_sets[0]})

    def __repr__(self) -> str:
        specs = ", ".join(f"{s.name}:{list(s.shape)}:{_dtype(s.dtype)}" for s in self.specs)
        sets = [[tuple(x.shape) for x in inputs] for inputs in self.input_sets]
        return (
            f"CaseProgram({type(self.layer).__name__}, attrs={self.attrs}, specs=[{specs}], "
            f"input_sets={sets}, seed={self.seed})"
        )


def _dtype(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1].lower()


@dataclass
class OpCase:
    """A property-based case proving the mapping of ``op``.

    ``programs`` is a Hypothesis strategy of CaseProgram that always contains ``op``.
    ``tolerances`` maps a dtype name to (atol, rtol), overriding the defaults.
    ``xfail`` makes the case a strict expected failure with that reason.
    ``min_opset`` / ``max_opset`` bound the opsets it runs at (a gap that only exists
    below some opset is declared with ``max_opset``).
    """

    op: str
    variant: str
    programs: Any
    paddle_api: str
    tolerances: dict = field(default_factory=dict)
    xfail: str | None = None
    min_opset: int | None = None
    max_opset: int | None = None

    @property
    def id(self) -> str:
        return f"{self.op.split('.', 1)[-1]}-{self.variant}"


@dataclass
class ModelCase:
    """A real architecture, exported and verified end to end.

    ``build`` returns a CaseProgram (layer with random weights, specs, input sets).
    """

    name: str
    build: Callable[[], CaseProgram]
    source: str
    tolerances: dict = field(default_factory=dict)
    xfail: str | None = None
    opset: int | None = None

    @property
    def id(self) -> str:
        return self.name
