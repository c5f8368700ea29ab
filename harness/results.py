"""Result records: one JSON line per verification, appended to a shard of the store.

Each process writes its own shard file, and each record is written with one locked
``write`` of a whole line, so shards of a run merge without loss and a record never
interleaves with another. A reader skips a torn last line (an interrupted write).
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import os
import platform
import socket
import time
import uuid
from pathlib import Path

logger = logging.getLogger(__name__)

EXPORTER_VERSION = "0.1.0"
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "reports" / "records"


def records_dir() -> Path:
    return Path(os.environ.get("HARNESS_RECORDS", DEFAULT_DIR))


@functools.cache
def versions() -> dict[str, str]:
    """Versions of everything that can change a result."""
    import numpy
    import onnx
    import onnxruntime
    import paddle

    return {
        "exporter": EXPORTER_VERSION,
        "paddle": paddle.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def run_id() -> str:
    """Identify the current run: shared by every shard of one `harness run`."""
    rid = os.environ.get("HARNESS_RUN_ID")
    if not rid:
        rid = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        os.environ["HARNESS_RUN_ID"] = rid
    return rid


class ResultStore:
    """A folder of ``*.jsonl`` shards."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path is not None else records_dir()
        # Named once, here: a forked child (an isolated case) inherits the store and
        # appends to its parent's shard instead of leaving one file per child.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self._shard_name = f"{socket.gethostname()}-{os.getpid()}-{worker}.jsonl"

    def _shard(self) -> Path:
        return self.path / self._shard_name

    def append(self, record: dict) -> None:
        """Append one record as a single line, atomically with respect to other writers."""
        record = {"run": run_id(), "time": round(time.time(), 3), **record}
        line = (json.dumps(record, sort_keys=True, default=_jsonable) + "\n").encode()
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._shard(), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                # A writer killed mid-line left a torn tail: end it, so that this record
                # starts a line of its own (the reader skips the torn one).
                line = b"\n" + line
            view = memoryview(line)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        finally:
            os.close(fd)

    def read(self) -> list[dict]:
        """Return every complete record of every shard, oldest shard first."""
        records = []
        if not self.path.is_dir():
            return records
        for shard in sorted(self.path.glob("*.jsonl")):
            with open(shard, "rb") as f:
                for n, raw in enumerate(f, 1):
                    if not raw.endswith(b"\n"):
                        logger.warning("%s: skipping a torn last line %d", shard.name, n)
                        continue
                    try:
                        records.append(json.loads(raw))
                    except json.JSONDecodeError:
                        logger.warning("%s: skipping unreadable line %d", shard.name, n)
        records.sort(key=lambda r: r.get("time", 0))
        return records

    def clear(self) -> None:
        if self.path.is_dir():
            for shard in self.path.glob("*.jsonl"):
                shard.unlink()


def _jsonable(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:
        pass
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    return str(value)


def finite(x: float) -> float | str:
    """JSON has no inf: keep it readable as a string."""
    return x if x == x and abs(x) != float("inf") else str(x)
