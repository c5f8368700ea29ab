"""The exception hierarchy: every failure of capture, export or verify is one of these."""

from __future__ import annotations

from dataclasses import dataclass


class HarnessError(Exception):
    """Base of every error this package raises on purpose."""


class BadArgumentError(HarnessError, ValueError):
    """An argument has the wrong type or value (caught before any work is done)."""


class ModelFileError(HarnessError):
    """A model or parameter file is missing, unreadable, corrupt or inconsistent."""


class CaptureError(HarnessError):
    """Paddle could not turn the layer or saved model into a program."""


class ExportError(HarnessError):
    """A program could not be written as a valid ONNX model."""


@dataclass(frozen=True)
class UnsupportedOp:
    """One Paddle op the exporter cannot handle, and why."""

    op: str
    count: int
    reason: str
    needs_opset: int | None = None

    def describe(self) -> str:
        times = "1 time" if self.count == 1 else f"{self.count} times"
        return f"{self.op} ({times}): {self.reason}"


class UnsupportedOpsError(ExportError):
    """Some ops of a program have no mapping at the requested opset.

    All of them are listed together in ``unsupported``.
    """

    def __init__(self, unsupported: list[UnsupportedOp], opset: int | None):
        self.unsupported = list(unsupported)
        self.opset = opset
        at = f" at opset {opset}" if opset is not None else ""
        lines = "\n".join(f"  - {u.describe()}" for u in self.unsupported)
        total = len(self.unsupported)
        super().__init__(
            f"{total} unsupported op{'s' if total != 1 else ''}{at}:\n{lines}\n"
            "Ops needing a higher opset export with a larger opset_version; "
            "the others need a new mapping in harness/export/."
        )


class OpsetError(BadArgumentError):
    """The requested opset is unknown, too low for some ops, or beyond the runtime."""


class VerificationError(HarnessError):
    """ONNX Runtime and Paddle disagree, or the model could not be run."""

    def __init__(self, message: str, verdict=None):
        super().__init__(message)
        self.verdict = verdict


class ProviderUnavailableError(HarnessError):
    """A requested ONNX Runtime execution provider is not available here."""


class OpsetTooLowError(UnsupportedOpsError, OpsetError):
    """An explicit opset is below what some ops of the program need."""
