"""Check Paddle's saved-model files in Python before Paddle's C++ loader reads them.

Measured on Paddle 3.3.1: a ``.pdiparams`` one byte short loads without an error and gives
a wrong last weight (the reference run uses the same wrong weight, so verification cannot
see it); a corrupt tensor header makes the loader allocate until the kernel kills the
process, hang, or raise MemoryError. Walking the file's tensor headers here, against the
file's real length, turns all of those into a ModelFileError that says where the file
breaks. Only Paddle's generated protobuf module is used here, never its loader.
"""

from __future__ import annotations

import json
import logging
import struct
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ModelFileError

logger = logging.getLogger(__name__)

# Paddle's VarType codes for tensor element types, with their sizes in bytes.
_DTYPES = {
    0: ("bool", 1),
    1: ("int16", 2),
    2: ("int32", 4),
    3: ("int64", 8),
    4: ("float16", 2),
    5: ("float32", 4),
    6: ("float64", 8),
    20: ("uint8", 1),
    21: ("int8", 1),
    22: ("bfloat16", 2),
    23: ("complex64", 8),
    24: ("complex128", 16),
    32: ("float8_e4m3fn", 1),
    33: ("float8_e5m2", 1),
    36: ("uint16", 2),
    37: ("uint32", 4),
    38: ("uint64", 8),
}
# Type tags of the PIR .json format (serialization version 4), for the cross-check.
_JSON_DTYPES = {
    "0.t_bool": "bool",
    "0.t_i8": "int8",
    "0.t_ui8": "uint8",
    "0.t_i16": "int16",
    "0.t_i32": "int32",
    "0.t_i64": "int64",
    "0.t_f16": "float16",
    "0.t_bf16": "bfloat16",
    "0.t_f32": "float32",
    "0.t_f64": "float64",
    "0.t_c64": "complex64",
    "0.t_c128": "complex128",
}
# Real models store no LoD on parameters; a large count is a corrupt header, and Paddle
# would try to read (and allocate) that many levels.
_MAX_LOD_LEVELS = 8
_MAX_DESC_BYTES = 1 << 16
_DENSE_TENSOR = 7  # VarType code of a plain tensor variable in a legacy ProgramDesc
_FIX = "Save the model again with paddle.jit.save, or pass the matching files."


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of a params file: where its header starts, its type and shape."""

    index: int
    offset: int
    dtype: str
    shape: tuple[int, ...]
    nbytes: int


@dataclass(frozen=True)
class ProgramParam:
    name: str
    dtype: str | None
    shape: tuple[int, ...]


class _Reader:
    def __init__(self, f, path: Path, size: int):
        self.f, self.path, self.size = f, path, size

    def remaining(self) -> int:
        return self.size - self.f.tell()

    def _need(self, n: int, what: str, index: int) -> None:
        if n > self.remaining():
            raise ModelFileError(
                f"{self.path} is truncated: tensor #{index} needs {n} bytes of {what} at "
                f"byte {self.f.tell()}, but the file ends after {self.remaining()} more "
                f"({self.size} bytes in all). {_FIX}"
            )

    def take(self, n: int, what: str, index: int) -> bytes:
        self._need(n, what, index)
        return self.f.read(n)

    def skip(self, n: int, what: str, index: int) -> None:
        self._need(n, what, index)
        self.f.seek(n, 1)


def read_params_index(path: Path, expected: int | None = None) -> list[TensorEntry]:
    """Walk every tensor header of a combined ``.pdiparams`` file; return what it holds.

    ``expected`` is the number of tensors the program stores, when known. Raises
    ModelFileError for a file that is truncated, has trailing bytes, or whose headers
    are not Paddle's (with the byte offset where it breaks).
    """
    path = Path(path)
    size = path.stat().st_size
    entries = []
    with open(path, "rb") as f:
        reader = _Reader(f, path, size)
        while reader.remaining() > 0:
            at = f.tell()
            try:
                entries.append(_read_tensor(reader, len(entries)))
            except ModelFileError as e:
                if expected is None or len(entries) < expected:
                    raise
                raise ModelFileError(
                    f"{path} has {size - at} trailing bytes after the {expected} tensors "
                    f"the program stores (from byte {at}), and they are not a tensor: the "
                    f"file was appended to or belongs to another model. {_FIX}"
                ) from e
    return entries


def _read_tensor(r: _Reader, index: int) -> TensorEntry:
    start = r.f.tell()
    (version,) = struct.unpack("<I", r.take(4, "version field", index))
    _expect_version(r, version, start, index)
    (levels,) = struct.unpack("<Q", r.take(8, "LoD level count", index))
    if levels > _MAX_LOD_LEVELS:
        raise ModelFileError(
            f"{r.path} is corrupt: tensor #{index} at byte {start} claims {levels} LoD "
            f"levels (parameters have 0; at most {_MAX_LOD_LEVELS} is plausible). {_FIX}"
        )
    for _ in range(levels):
        (nbytes,) = struct.unpack("<Q", r.take(8, "LoD level size", index))
        r.skip(nbytes, "LoD data", index)
    (version,) = struct.unpack("<I", r.take(4, "tensor version field", index))
    _expect_version(r, version, start, index)
    (desc_size,) = struct.unpack("<i", r.take(4, "descriptor size", index))
    if not 0 < desc_size <= _MAX_DESC_BYTES:
        raise ModelFileError(
            f"{r.path} is corrupt: tensor #{index} at byte {start} has a descriptor of "
            f"{desc_size} bytes (expected 1..{_MAX_DESC_BYTES}). {_FIX}"
        )
    desc = r.take(desc_size, "descriptor", index)
    code, shape = _parse_desc(desc, r.path, index, start)
    if code not in _DTYPES:
        raise ModelFileError(
            f"{r.path} is corrupt: tensor #{index} at byte {start} has element type code "
            f"{code}, which no Paddle tensor uses. {_FIX}"
        )
    dtype, itemsize = _DTYPES[code]
    numel = 1
    for d in shape:
        numel *= d
    nbytes = numel * itemsize
    r.skip(nbytes, f"{dtype} data for shape {list(shape)}", index)
    return TensorEntry(index, start, dtype, shape, nbytes)


def _expect_version(r: _Reader, version: int, start: int, index: int) -> None:
    if version != 0:
        raise ModelFileError(
            f"{r.path} is not a Paddle params file or is corrupt: tensor #{index} at byte "
            f"{start} has format version {version}, expected 0. {_FIX}"
        )


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def _parse_desc(buf: bytes, path: Path, index: int, start: int) -> tuple[int, tuple]:
    """Parse Paddle's TensorDesc protobuf: field 1 is the type code, field 2 the dims."""
    code, dims, pos = None, [], 0
    try:
        while pos < len(buf):
            key, pos = _varint(buf, pos)
            field, wire = key >> 3, key & 7
            if wire == 0:
                value, pos = _varint(buf, pos)
                if field == 1:
                    code = value
                elif field == 2:
                    dims.append(value)
            elif wire == 2:
                length, pos = _varint(buf, pos)
                chunk, pos = buf[pos : pos + length], pos + length
                if field == 2:  # packed dims
                    p = 0
                    while p < len(chunk):
                        value, p = _varint(chunk, p)
                        dims.append(value)
            elif wire in (1, 5):
                pos += 8 if wire == 1 else 4
            else:
                raise ValueError(f"wire type {wire}")
    except ValueError as e:
        raise ModelFileError(
            f"{path} is corrupt: the descriptor of tensor #{index} at byte {start} does not "
            f"parse ({e}). {_FIX}"
        ) from e
    # int64 dims arrive as unsigned varints: a negative dim is a huge number here.
    dims = [d - (1 << 64) if d >= 1 << 63 else d for d in dims]
    if code is None or any(d < 0 for d in dims):
        raise ModelFileError(
            f"{path} is corrupt: tensor #{index} at byte {start} has type code {code} and "
            f"dims {dims}; a stored tensor needs a type and non-negative dims. {_FIX}"
        )
    return code, tuple(dims)


def check_json_program(path: Path) -> list[ProgramParam] | None:
    """Parse a PIR ``.json`` program; return its parameters, sorted by name.

    Raises ModelFileError when the file is not UTF-8 JSON of Paddle's PIR format. Returns
    None when the layout of the parameters is not the one this module knows (a newer
    serialization version): the caller then relies on the checks after loading.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ModelFileError(
            f"{path} is not a Paddle program: byte {e.start} of {len(raw)} is not UTF-8 "
            f"text ({e.reason}). {_FIX}"
        ) from e
    except json.JSONDecodeError as e:
        cut = " (the file looks truncated)" if e.pos >= len(raw.rstrip()) - 1 else ""
        raise ModelFileError(
            f"{path} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno} "
            f"(byte {e.pos} of {len(raw)}){cut}. {_FIX}"
        ) from e
    base = data.get("base_code") if isinstance(data, dict) else None
    if not isinstance(base, dict) or base.get("magic") != "pir" or "program" not in data:
        raise ModelFileError(
            f"{path} is JSON but not a Paddle PIR program: expected an object with "
            f"base_code.magic == 'pir' and a 'program', got "
            f"{_describe_json(data)}. Pass the .json that paddle.jit.save wrote."
        )
    try:
        return _json_params(data["program"])
    except (KeyError, IndexError, TypeError, ValueError):
        logger.debug("%s: parameter layout not recognised; skipping the pre-check", path)
        return None


def check_legacy_program(path: Path) -> list[ProgramParam]:
    """Parse a legacy ``.pdmodel`` (a ProgramDesc protobuf); return its parameters by name.

    Raises ModelFileError when the bytes are not a ProgramDesc.
    """
    from google.protobuf.message import DecodeError
    from paddle.base.proto import framework_pb2

    path = Path(path)
    raw = path.read_bytes()
    desc = framework_pb2.ProgramDesc()
    try:
        desc.ParseFromString(raw)
    except DecodeError as e:
        raise ModelFileError(
            f"{path} is not a Paddle program: its {len(raw)} bytes do not parse as a "
            f"ProgramDesc ({e}); the file is truncated or corrupt. {_FIX}"
        ) from e
    if not desc.blocks:
        raise ModelFileError(f"{path} parses but holds no program block. {_FIX}")
    params = []
    for var in desc.blocks[0].vars:
        if var.persistable and var.type.type == _DENSE_TENSOR:
            tensor = var.type.dense_tensor.tensor
            dtype = _DTYPES.get(tensor.data_type, (None, 0))[0]
            params.append(ProgramParam(var.name, dtype, tuple(int(d) for d in tensor.dims)))
    return sorted(params, key=lambda p: p.name)


def _describe_json(data) -> str:
    if isinstance(data, dict):
        return f"an object with keys {sorted(data)[:6]}"
    return f"a JSON {type(data).__name__}"


def _json_params(program: dict) -> list[ProgramParam]:
    """Collect the persistable ``builtin.parameter`` ops ("p") of every block."""
    params = []
    for op in _json_ops(program):
        if op.get("#") == "1.data" and _json_persistable_data(op):
            # Paddle loads persistable data ops from the params file too; their layout
            # is not known here, so leave the cross-check to the checks after loading.
            raise ValueError("persistable data op")
        if op.get("#") != "p":
            continue
        name, flags, desc = op["A"][-1], op["OA"], op["O"]["TT"]["D"]
        if not isinstance(name, str) or not all(isinstance(f, int) for f in flags):
            raise ValueError("parameter layout")
        if not flags[0]:  # not persistable: not stored (the LSTM's dropout state, say)
            continue
        dtype = _JSON_DTYPES.get(desc[0].get("#"))
        params.append(ProgramParam(name, dtype, tuple(int(d) for d in desc[1])))
    return sorted(params, key=lambda p: p.name)


def _json_ops(node):
    if isinstance(node, dict):
        if "#" in node and "A" in node and ("O" in node or "I" in node):
            yield node
        for value in node.values():
            yield from _json_ops(value)
    elif isinstance(node, list):
        for value in node:
            yield from _json_ops(value)


def _json_persistable_data(op: dict) -> bool:
    return any(
        isinstance(a, dict) and a.get("N") == "persistable" and "true" in json.dumps(a)
        for a in op.get("OA", [])
    )


def check_params_match(
    params_file: Path, entries: list[TensorEntry], params: list[ProgramParam]
) -> None:
    """Check that the file holds one tensor per program parameter, in Paddle's order.

    Paddle stores the parameters sorted by name and assigns them back by position, so a
    params file of another model either fails to load or, worse, loads into the wrong
    parameters. Raises ModelFileError naming every difference found.
    """
    problems = []
    if len(entries) != len(params):
        problems.append(
            f"the program has {len(params)} parameter(s), the file holds "
            f"{len(entries)} tensor(s)"
        )
    for param, entry in zip(params, entries):
        if param.shape != entry.shape or (param.dtype and param.dtype != entry.dtype):
            problems.append(
                f"parameter {param.name!r} is {param.dtype} {list(param.shape)} in the "
                f"program, the file's tensor #{entry.index} is {entry.dtype} "
                f"{list(entry.shape)}"
            )
    if problems:
        shown = "; ".join(problems[:5])
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise ModelFileError(
            f"{params_file} does not match its program: {shown}{more}. The params file "
            "belongs to another model or another version of it; pass the .pdiparams saved "
            "together with this program."
        )
