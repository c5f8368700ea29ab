"""Write files so that an interrupted run never leaves a truncated one behind."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import onnx

from harness.errors import BadArgumentError, ExportError

logger = logging.getLogger(__name__)

# Protobuf cannot serialise a message past 2 GiB; above this many bytes of weights a model
# is written with its weights as ONNX external data. Read at call time, so a test can
# lower it to exercise that path without writing gigabytes.
EXTERNAL_DATA_THRESHOLD = 1_800_000_000


def _ensure_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise BadArgumentError(
            f"cannot write into {folder}: it is a file, expected a folder; "
            "choose an output path whose parent is a folder"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadArgumentError(
            f"cannot create the output folder {folder}: {e.strerror or e}; "
            "choose a path you can write to"
        ) from e


def check_writable(target: Path) -> None:
    """Fail early, before any work, when ``target`` cannot be written.

    Creates missing folders, then creates and removes a probe file: a permission check
    alone says nothing for root or for a read-only filesystem. Raises BadArgumentError.
    """
    target = Path(target)
    if target.is_dir():
        raise BadArgumentError(
            f"the output path {target} is a folder, expected a file path (like out/model)"
        )
    _ensure_folder(target.parent)
    try:
        fd, probe = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".probe", dir=target.parent
        )
    except OSError as e:
        raise BadArgumentError(
            f"the output folder {target.parent} is not writable: {e.strerror or e}; "
            "choose a path you can write to"
        ) from e
    os.close(fd)
    os.unlink(probe)


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file and a rename.

    An existing ``target`` is replaced only once the new content is complete on disk.
    """
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


def external_data_files(target: Path) -> list[Path]:
    """Return the external-data files written next to ``target`` by ``save_model``."""
    target = Path(target)
    return sorted(target.parent.glob(f"{target.name}.*.data"))


def save_model(
    model: onnx.ModelProto, target: Path, threshold: int | None = None
) -> list[Path]:
    """Save ``model`` atomically; return the files written (the model first).

    Weights of ``threshold`` bytes or more (default ``EXTERNAL_DATA_THRESHOLD``) go to one
    external-data file ``<name>.<id>.data`` next to the model, which is then checked by
    path (the checker cannot take a message past 2 GiB). The data file's name is new on
    every save, so the old model keeps its own data file until the new model replaces
    it: an interrupted save leaves the old pair or the new pair, never a mix. Raises
    BadArgumentError for an unwritable path and ExportError when writing fails.
    """
    target = Path(target)
    limit = EXTERNAL_DATA_THRESHOLD if threshold is None else threshold
    stale = external_data_files(target)
    try:
        if initializer_bytes(model) < limit:
            atomic_write_bytes(target, model.SerializeToString())
            written = [target]
        else:
            written = _save_external(model, target)
    except OSError as e:
        raise ExportError(
            f"could not write {target}: {e.strerror or e}; any earlier file there is "
            "unchanged. Free some space or choose another output path."
        ) from e
    for old in stale:
        if old not in written:
            with contextlib.suppress(OSError):
                old.unlink()
    return written


def _save_external(model: onnx.ModelProto, target: Path) -> list[Path]:
    if target.is_dir():
        raise BadArgumentError(f"{target} is a folder, expected a file path")
    _ensure_folder(target.parent)
    data_name = f"{target.name}.{uuid.uuid4().hex[:8]}.data"
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
        # save_model moved the weights out of ``model``; put them back so the caller's
        # proto is unchanged.
        onnx.load_external_data_for_model(model, str(staging))
        try:
            onnx.checker.check_model(str(staging / target.name), full_check=True)
        except onnx.checker.ValidationError as e:
            raise ExportError(f"the exported model fails the ONNX checker: {e}") from e
        # The data first: until the model is renamed, the old model (if any) still
        # points at its own, older data file.
        os.replace(staging / data_name, target.parent / data_name)
        os.replace(staging / target.name, target)
        logger.info("wrote %s with its weights in %s", target, data_name)
        return [target, target.parent / data_name]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
