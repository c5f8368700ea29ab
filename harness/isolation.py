"""Run a function in a forked child, so that a native crash becomes a result, not the end.

Paddle and ONNX Runtime are C++ underneath: a segfault or an abort there kills the
process outright, with no Python exception to catch. ``run_in_child`` forks, runs the
function in the child and sends its outcome back through a pipe; when the child dies of a
signal instead, the parent gets a ``crashed`` outcome naming the signal and carries on.

Fork (not spawn) because the child must see the caller's objects as they are: the drawn
layer, the loaded Paddle, the open result store. The child never returns into the
caller's stack: it leaves with ``os._exit``, so no test teardown or atexit handler runs
twice.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChildOutcome:
    """How a function run in a child process ended.

    ``kind`` is "returned" (``value`` holds the result), "raised" (``error_type``,
    ``error_mro``, ``message`` describe the exception; ``error`` is the exception itself
    when it survived pickling), "crashed" (``signal`` names the signal, or
    ``exit_code`` the status of a child that exited without reporting) or "timed_out"
    (the child was killed after ``timeout`` seconds).
    """

    kind: str
    value: Any = None
    error: BaseException | None = None
    error_type: str = ""
    error_mro: tuple[str, ...] = ()
    message: str = ""
    traceback: str = ""
    signal: str = ""
    exit_code: int | None = None
    seconds: float = 0.0

    @property
    def crashed(self) -> bool:
        return self.kind in ("crashed", "timed_out")

    def raised(self, cls: type) -> bool:
        """Whether the child raised ``cls`` or a subclass of it (compared by name)."""
        return self.kind == "raised" and cls.__qualname__ in self.error_mro

    def describe(self) -> str:
        if self.kind == "returned":
            return "returned"
        if self.kind == "raised":
            return f"raised {self.error_type}: {self.message[:300]}"
        if self.kind == "timed_out":
            return f"timed out after {self.seconds:.1f}s and was killed"
        if self.signal:
            return f"crashed with {self.signal}"
        return f"exited with status {self.exit_code} without reporting a result"


def reraise(outcome: ChildOutcome, fallback: type[BaseException]) -> None:
    """Raise, in the parent, the exception a child raised (with the child's traceback as a
    note); ``fallback(message)`` when it could not be rebuilt."""
    error = outcome.error
    if error is None:
        error = fallback(f"{outcome.error_type}: {outcome.message}")
    if hasattr(error, "add_note"):
        error.add_note(f"raised in a child process:\n{outcome.traceback}")
    raise error


def run_in_child(
    fn: Callable[..., Any], *args, timeout: float | None = None, **kwargs
) -> ChildOutcome:
    """Run ``fn(*args, **kwargs)`` in a forked child and return how it ended.

    A child still running after ``timeout`` seconds is killed (SIGKILL). A Ctrl-C in the
    parent kills the child and is re-raised. The return value must pickle; one that does
    not comes back as its ``repr``.
    """
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    _collect_garbage()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child
        # Nor may the child collect what it inherited, for the same reason.
        gc.freeze()
        os.close(read_fd)
        _child(write_fd, fn, args, kwargs)
    os.close(write_fd)
    reaped = False
    try:
        data, timed_out = _read_all(read_fd, start, timeout)
        if timed_out:
            _kill(pid)
        _, status = os.waitpid(pid, 0)
        reaped = True
    finally:
        os.close(read_fd)
        if not reaped:  # interrupted (Ctrl-C) or failed while waiting: leave no orphan
            _kill(pid)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    seconds = time.monotonic() - start
    if timed_out:
        return ChildOutcome("timed_out", signal="SIGKILL", seconds=seconds)
    return _outcome(data, status, seconds)


_FROZEN = False


def _collect_garbage() -> None:
    """Destroy the parent's garbage here, in the process that made it.

    A Paddle interpreter left in a reference cycle and collected in the child joins
    worker threads the child does not have, and segfaults (measured on Paddle 3.3.1 with
    a PirInterpreter, after exporting a saved model). A full collection costs about
    0.2 s with Paddle imported, so the first call also freezes (``gc.freeze``) what is
    alive then, mostly Paddle's own modules; later collections skip it.
    """
    global _FROZEN
    gc.collect()
    if not _FROZEN:
        gc.freeze()
        _FROZEN = True


def _child(write_fd: int, fn, args, kwargs) -> None:
    code = 0
    try:
        try:
            payload = {"kind": "returned", "value": fn(*args, **kwargs)}
        except BaseException as e:  # noqa: BLE001  (everything goes back to the parent)
            payload = _error_payload(e)
        try:
            data = pickle.dumps(payload)
        except Exception:
            payload["value"] = repr(payload.get("value"))
            payload.pop("error", None)
            data = pickle.dumps(payload)
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(data)
    except BaseException:  # noqa: BLE001
        code = 70  # could not even report: the parent sees an exit without a result
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _error_payload(e: BaseException) -> dict:
    payload = {
        "kind": "raised",
        "error_type": type(e).__qualname__,
        "error_mro": tuple(c.__qualname__ for c in type(e).__mro__),
        "message": str(e),
        "traceback": "".join(traceback.format_exception(e))[-4000:],
    }
    # The exception travels as (class, args, attributes) and is rebuilt without calling
    # its __init__: pickling it whole fails for classes whose __init__ takes other
    # arguments than ``args`` (UnsupportedOpsError, VerificationError).
    with contextlib.suppress(Exception):
        parts = (type(e), e.args, dict(vars(e)))
        _rebuild(*pickle.loads(pickle.dumps(parts)))
        payload["error"] = parts
    return payload


def _rebuild(cls, args, attrs) -> BaseException:
    error = cls.__new__(cls)
    error.args = args
    vars(error).update(attrs)
    return error


def _read_all(fd: int, start: float, timeout: float | None) -> tuple[bytes, bool]:
    chunks = []
    while True:
        wait = None if timeout is None else timeout - (time.monotonic() - start)
        if wait is not None and wait <= 0:
            return b"".join(chunks), True
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _outcome(data: bytes, status: int, seconds: float) -> ChildOutcome:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return ChildOutcome("crashed", signal=name, seconds=seconds)
    code = os.WEXITSTATUS(status)
    try:
        payload = pickle.loads(data) if data else None
    except Exception:
        payload = None
    if payload is None or code != 0:
        return ChildOutcome("crashed", exit_code=code, seconds=seconds)
    if payload["kind"] == "returned":
        return ChildOutcome("returned", value=payload["value"], seconds=seconds)
    parts = payload.get("error")
    return ChildOutcome(
        "raised",
        error=_rebuild(*parts) if parts else None,
        error_type=payload["error_type"],
        error_mro=payload["error_mro"],
        message=payload["message"],
        traceback=payload["traceback"],
        seconds=seconds,
    )
