"""Write files so that an interrupted run never leaves a truncated one behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import onnx

from harness.errors import BadArgumentError

# Protobuf cannot serialise a message past 2 GiB; stay well below it.
EXTERNAL_DATA_THRESHOLD = 1_800_000_000


def _ensure_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, PermissionError) as e:
        raise BadArgumentError(f"cannot create the output folder {folder}: {e}") from e
    if not os.access(folder, os.W_OK):
        raise BadArgumentError(f"the output folder {folder} is not writable")


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file and a rename."""
    target = Path(target)
    if target.is_dir():
        raise BadArgumentError(f"{target} is a folder, expected a file path")
    _ensure_folder(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def initializer_bytes(model: onnx.ModelProto) -> int:
    return sum(len(t.raw_data) for t in model.graph.initializer)


def save_model(model: onnx.ModelProto, target: Path) -> None:
    """Save ``model`` atomically; weights past the protobuf limit go to ``<name>.data``.

    An existing file is replaced only once the new one is complete.
    """
    target = Path(target)
    if initializer_bytes(model) < EXTERNAL_DATA_THRESHOLD:
        atomic_write_bytes(target, model.SerializeToString())
        return
    if target.is_dir():
        raise BadArgumentError(f"{target} is a folder, expected a file path")
    _ensure_folder(target.parent)
    data_name = target.name + ".data"
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        onnx.save_model(
            model,
            staging / target.name,
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=data_name,
            size_threshold=1024,
        )
        os.replace(staging / data_name, target.parent / data_name)
        os.replace(staging / target.name, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
