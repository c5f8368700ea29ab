"""Turn a Paddle Layer or a saved inference model into a neutral Graph.

This module and ``harness.reference`` are the only places that touch Paddle's API.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import numpy as np

from harness import paddle_files
from harness.errors import BadArgumentError, CaptureError, ModelFileError
from harness.graph import Graph, Op, Value
from harness.paddle_env import eval_mode, paddle_guard

logger = logging.getLogger(__name__)

# Attribute keys that carry no meaning for export.
_NOISE_ATTRS = frozenset({"op_callstack", "struct_name", "stop_gradient", "place"})
_SOURCE_OPS = ("pd_op.data", "pd_op.feed")
_SINK_OPS = ("pd_op.fetch",)


def dtype_name(dtype) -> str:
    """Return the numpy-style name ('float32', 'int64', 'bool', 'bfloat16') of a dtype."""
    text = str(dtype).lower()
    text = text.rsplit(".", 1)[-1]
    aliases = {"fp32": "float32", "fp16": "float16", "fp64": "float64", "bf16": "bfloat16"}
    return aliases.get(text, text)


def _plain(value):
    """Convert a PIR attribute value into plain Python (lists, numbers, strings)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    cls = type(value).__name__
    if cls in ("DataType", "dtype", "VarType"):
        return dtype_name(value)
    return str(value)


def _shape(value) -> tuple[int | None, ...] | None:
    try:
        dims = list(value.shape)
    except Exception:  # list values (builtin.combine results) have no shape
        return None
    return tuple(None if int(d) < 0 else int(d) for d in dims)


def _value_dtype(value) -> str | None:
    try:
        return dtype_name(value.dtype)
    except Exception:
        return None


def _is_list_value(value) -> bool:
    try:
        return bool(value.type().is_vec_type())  # a vector of tensors
    except Exception:
        return _shape(value) is None


class _Walker:
    """Walk one PIR block into a Graph, naming every value once."""

    def __init__(self):
        self.names: dict[str, str] = {}  # value id -> graph name
        self.used: set[str] = set()
        self.values: dict[str, Value] = {}
        self.lists: dict[str, list[str]] = {}

    def name_for(self, value, hint: str) -> str:
        key = value.id
        if key in self.names:
            return self.names[key]
        name = _sanitize(hint)
        base, n = name, 1
        while name in self.used:
            n += 1
            name = f"{base}_{n}"
        self.used.add(name)
        self.names[key] = name
        shape = None if _is_list_value(value) else _shape(value)
        self.values[name] = Value(name, shape, _value_dtype(value))
        return name

    def lookup(self, value) -> str | None:
        if not value.initialized():
            return None
        key = value.id
        if key not in self.names:
            raise CaptureError(
                f"operand {value} is used before it is defined; the program is not in "
                "topological order or uses a value from an outer block"
            )
        return self.names[key]

    def walk(self, block) -> tuple[list[Op], list[str], list[str], list[str]]:
        ops: list[Op] = []
        inputs: list[str] = []
        outputs: list[str] = []
        params: list[str] = []
        for index, pir_op in enumerate(block.ops):
            kind = pir_op.name()
            attrs = {k: _plain(v) for k, v in pir_op.attrs().items() if k not in _NOISE_ATTRS}
            if kind in _SINK_OPS:
                outputs.append(self.lookup(pir_op.operand_source(0)))
                continue
            operands = [
                self.lookup(pir_op.operand_source(i)) for i in range(pir_op.num_operands())
            ]
            results = pir_op.results()
            if kind in _SOURCE_OPS:
                out = self.name_for(results[0], attrs.get("name") or f"input_{len(inputs)}")
                inputs.append(out)
                continue
            if kind == "builtin.parameter":
                original = attrs["parameter_name"]
                params.append((self.name_for(results[0], original), original))
                continue
            short = kind.split(".", 1)[-1].rstrip("_")
            if len(results) == 1:
                outs = [self.name_for(results[0], f"{short}_{index}")]
            else:
                outs = [
                    self.name_for(r, f"{short}_{index}_{i}") for i, r in enumerate(results)
                ]
            if kind == "builtin.combine":
                self.lists[outs[0]] = list(operands)
            names = _input_names(pir_op) if kind.startswith("pd_op.") else []
            ops.append(Op(kind, attrs, operands, outs, names, index))
        return ops, inputs, outputs, params


def _input_names(pir_op) -> list[str]:
    # Control-flow ops (pd_op.if, pd_op.while) have no op info and raise ValueError here.
    try:
        return list(pir_op.get_input_names())
    except ValueError:
        return []


def _sanitize(name: str) -> str:
    keep = "".join(c if (c.isalnum() or c in "._-") else "_" for c in name)
    return keep or "value"


def _flat_outputs(outputs) -> list:
    """Flatten nested output tuples (LSTM returns ``(out, (h, c))``) depth first.

    The order is that of ``reference.run_layer``, which flattens eager outputs alike.
    """
    if isinstance(outputs, (list, tuple)):
        return [leaf for item in outputs for leaf in _flat_outputs(item)]
    return [outputs]


def graph_from_program(
    program, params: dict[str, np.ndarray], outputs=None, source=""
) -> Graph:
    """Walk a PIR ``program`` into a Graph.

    ``outputs`` lists the result Values of a traced program; saved programs mark theirs
    with ``pd_op.fetch`` ops instead.
    """
    walker = _Walker()
    block = program.global_block()
    for op in block.ops:
        if op.blocks() if hasattr(op, "blocks") else False:
            logger.debug("op %s has sub-blocks; they are not walked", op.name())
    ops, inputs, fetched, param_names = walker.walk(block)
    if outputs is not None:
        fetched = [walker.lookup(v) for v in _flat_outputs(outputs)]
    missing = [original for _, original in param_names if original not in params]
    if missing:
        raise ModelFileError(
            f"the program uses {len(missing)} parameter(s) with no value: {missing[:5]}; "
            "the params file does not match the program"
        )
    used = {name: np.asarray(params[original]) for name, original in param_names}
    for name, array in used.items():
        declared = walker.values[name].shape
        if declared is not None and tuple(array.shape) != tuple(d or -1 for d in declared):
            raise ModelFileError(
                f"parameter {name!r} has shape {tuple(array.shape)} in the params file but "
                f"{declared} in the program; the params file does not match the program"
            )
    return Graph(ops, inputs, fetched, walker.values, used, walker.lists, source)


def capture_layer(layer, input_spec) -> Graph:
    """Trace ``layer`` with ``input_spec`` (a list of InputSpec) into a Graph.

    The layer is traced in eval mode and left exactly as it was: its train/eval state,
    its forward and its parameters are restored afterwards.
    """
    import paddle

    if not isinstance(layer, paddle.nn.Layer):
        raise BadArgumentError(
            f"expected a paddle.nn.Layer or a saved-model path, got {type(layer).__name__}"
        )
    specs = _normalize_specs(input_spec)
    static_fn = None
    own_forward = vars(layer).get("forward", _ABSENT)
    with paddle_guard(), paddle.utils.unique_name.guard(), eval_mode(layer):
        try:
            static_fn = paddle.jit.to_static(layer, input_spec=specs, full_graph=True)
            program = static_fn.forward.concrete_program
        except Exception as e:
            raise CaptureError(
                f"Paddle could not trace {type(layer).__name__} with input_spec="
                f"{[_spec_text(s) for s in specs]}: {type(e).__name__}: {_first_line(e)}"
            ) from e
        finally:
            if static_fn is not None:
                with contextlib.suppress(Exception):
                    static_fn.forward.rollback()
            _restore_forward(layer, own_forward)
        # By the tensor's name, which is the program's parameter_name: the paired Values
        # of program.parameters can dangle once the trace is rolled back, and calling
        # get_defining_op() on them then segfaults, now and then (seen under xdist).
        tensors, _ = program.parameters
        params = {}
        for tensor in tensors:
            name = tensor.name
            if tensor._is_initialized():
                params[name] = np.array(tensor.numpy())
            else:
                # Non-persistable state (nn.LSTM's dropout state) is never filled in eval
                # mode; its numpy() would be shape (0,), not the declared shape.
                shape = [max(int(d), 0) for d in tensor.shape]
                params[name] = np.zeros(shape, dtype_name(tensor.dtype))
        return graph_from_program(
            program.main_program, params, program.outputs, source=type(layer).__name__
        )


_NOISE_LINES = ("---", "C++ Traceback", "Error Message Summary", "In transformed code")


_ABSENT = object()


def _restore_forward(layer, own_forward) -> None:
    # rollback() puts the original forward back as an instance attribute (a bound
    # method); a layer that had none keeps reading forward from its class, as before.
    if own_forward is _ABSENT:
        vars(layer).pop("forward", None)
    else:
        vars(layer)["forward"] = own_forward


def _first_line(e: BaseException) -> str:
    """Return the line of a Paddle error that says what went wrong.

    Paddle wraps errors raised while tracing or running in "In transformed code:" /
    "In user code:" and a Python stack; the message proper is the first line naming an
    error (``ValueError: (InvalidArgument) ...``), so prefer that one.
    """
    text = str(e).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        head = line.split(":", 1)[0]
        if head.endswith(("Error", "Exception")) or (line.startswith("(") and ")" in line):
            return line[:400]
    for line in lines:
        if not line.startswith(_NOISE_LINES) and line != "In user code:":
            return line[:400]
    return text[:400]


def _spec_text(spec) -> str:
    return f"InputSpec({list(spec.shape)}, {dtype_name(spec.dtype)}, {spec.name!r})"


def _normalize_specs(input_spec):
    import paddle

    if input_spec is None:
        raise BadArgumentError(
            "input_spec is required to trace a Layer: pass a list of "
            "paddle.static.InputSpec, one per forward argument"
        )
    if isinstance(input_spec, (paddle.static.InputSpec, paddle.Tensor)):
        input_spec = [input_spec]
    specs = []
    for i, spec in enumerate(input_spec):
        if isinstance(spec, paddle.static.InputSpec):
            specs.append(spec)
        elif isinstance(spec, paddle.Tensor):
            specs.append(paddle.static.InputSpec.from_tensor(spec, name=f"x{i}"))
        elif isinstance(spec, np.ndarray):
            specs.append(paddle.static.InputSpec(list(spec.shape), str(spec.dtype), f"x{i}"))
        else:
            raise BadArgumentError(
                f"input_spec[{i}] must be a paddle.static.InputSpec, a Tensor or a numpy "
                f"array, got {type(spec).__name__}"
            )
    return specs


# --- saved models ------------------------------------------------------------------------


def saved_model_files(prefix) -> tuple[Path, Path, str]:
    """Find the program and params files of a saved model; return (program, params, kind).

    ``prefix`` is what ``paddle.jit.save`` was given; a path ending in ``.json`` or
    ``.pdmodel`` is accepted too.
    """
    text = os.fspath(prefix)
    for ext in (".json", ".pdmodel", ".pdiparams"):
        if text.endswith(ext):
            text = text[: -len(ext)]
    base = Path(text)
    if base.is_dir():
        found = sorted(base.glob("*.json")) + sorted(base.glob("*.pdmodel"))
        hint = f"; it holds {found[0].name}, pass {found[0].with_suffix('')}" if found else ""
        raise ModelFileError(f"{base} is a folder, expected a saved-model prefix{hint}")
    candidates = [
        (base.with_name(base.name + ".json"), "pir"),
        (base.with_name(base.name + ".pdmodel"), "legacy"),
    ]
    for program_file, kind in candidates:
        if program_file.is_dir():
            raise ModelFileError(f"{program_file} is a folder, expected a model file")
        if program_file.is_file():
            params_file = base.with_name(base.name + ".pdiparams")
            if params_file.is_dir():
                raise ModelFileError(f"{params_file} is a folder, expected a params file")
            return program_file, params_file, kind
    raise ModelFileError(
        f"no saved model at {text!r}: neither {candidates[0][0]} nor {candidates[1][0]} "
        "exists (pass the prefix given to paddle.jit.save)"
    )


def load_saved(prefix):
    """Load a saved inference model; return (program, feed_names, fetch_values, scope)."""
    import paddle

    program_file, params_file, kind = saved_model_files(prefix)
    for f in (program_file, params_file):
        if f.exists() and f.stat().st_size == 0:
            raise ModelFileError(f"{f} is empty; the model was not saved completely")
    _precheck(program_file, params_file, kind)
    stem = str(program_file.with_suffix(""))
    scope = paddle.static.Scope()
    with paddle_guard(static=True), paddle.static.scope_guard(scope):
        exe = paddle.static.Executor(paddle.CPUPlace())
        try:
            if kind == "legacy":
                with paddle.pir_utils.OldIrGuard():
                    old, feeds, fetches = paddle.static.load_inference_model(stem, exe)
                    program = paddle.pir.translate_to_pir(old.desc)
                fetches = None
            else:
                program, feeds, fetches = paddle.static.load_inference_model(stem, exe)
        except Exception as e:
            raise ModelFileError(
                f"Paddle could not load the saved model {program_file} (+ {params_file.name}): "
                f"{type(e).__name__}: {_first_line(e)}. The files may be truncated, corrupt, "
                "or not match each other."
            ) from e
    _check_op_names(program, program_file)
    return program, list(feeds), fetches, scope


def _precheck(program_file: Path, params_file: Path, kind: str) -> None:
    """Check both files in Python before Paddle's loader reads them.

    See harness.paddle_files: on Paddle 3.3 a truncated or corrupt params file can load
    silently wrong, hang, or exhaust memory instead of raising.
    """
    try:
        if kind == "pir":
            params = paddle_files.check_json_program(program_file)
        else:
            params = paddle_files.check_legacy_program(program_file)
        if not params_file.exists():
            if params:
                names = [p.name for p in params]
                raise ModelFileError(
                    f"{params_file} is missing, but the program has {len(names)} "
                    f"parameter(s) ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''}"
                    "); copy the .pdiparams saved with the program next to it"
                )
            return
        expected = len(params) if params is not None else None
        entries = paddle_files.read_params_index(params_file, expected)
    except OSError as e:
        raise ModelFileError(f"cannot read the saved model: {e}") from e
    if params is not None:
        paddle_files.check_params_match(params_file, entries, params)


def _check_op_names(program, program_file: Path) -> None:
    # Paddle 3.3 loads an op type it does not know as an op with an empty name (and drops
    # its results), so the program would fail later with a puzzling message.
    nameless = [i for i, op in enumerate(program.global_block().ops) if not op.name()]
    if nameless:
        raise ModelFileError(
            f"{program_file}: op(s) #{nameless[:5]} have no type after loading; the file "
            "names an op this Paddle build does not know (saved by another Paddle version, "
            "or edited/corrupt). Save the model again with this Paddle version."
        )


def capture_saved(prefix) -> Graph:
    """Load a saved inference model (``.json`` or legacy ``.pdmodel``) into a Graph."""
    program, _, _, scope = load_saved(prefix)
    params = {}
    for op in program.global_block().ops:
        if op.name() != "builtin.parameter":
            continue
        name = op.attrs()["parameter_name"]
        var = scope.find_var(name)
        if var is None:
            raise ModelFileError(f"parameter {name!r} is missing from the params file")
        params[name] = np.array(var.get_tensor())
    return graph_from_program(program, params, source=str(prefix))
