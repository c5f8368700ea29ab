"""Paddle's own outputs for given inputs: the reference every export is checked against."""

from __future__ import annotations

import numpy as np

from harness.errors import VerificationError
from harness.paddle_env import eval_mode, paddle_guard


def _flatten(out) -> list:
    if isinstance(out, (list, tuple)):
        return [leaf for item in out for leaf in _flatten(item)]
    if isinstance(out, dict):
        return [leaf for key in sorted(out) for leaf in _flatten(out[key])]
    return [out]


def _as_numpy(tensor) -> np.ndarray:
    array = np.asarray(tensor.numpy()) if hasattr(tensor, "numpy") else np.asarray(tensor)
    return array


def run_layer(layer, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run ``layer`` eagerly in eval mode on ``inputs``; return its flat outputs as numpy."""
    import paddle

    with paddle_guard(), paddle.no_grad(), eval_mode(layer):
        tensors = [paddle.to_tensor(x) for x in inputs]
        try:
            out = layer(*tensors)
        except Exception as e:
            shapes = [tuple(x.shape) for x in inputs]
            raise VerificationError(
                f"Paddle itself failed to run {type(layer).__name__} on inputs of shapes "
                f"{shapes}: {type(e).__name__}: {str(e).strip().splitlines()[0][:300]}"
            ) from e
        return [_as_numpy(t) for t in _flatten(out) if t is not None]


class SavedModelRunner:
    """Run a saved inference model with Paddle's Executor, loaded once."""

    def __init__(self, prefix):
        from harness.capture import load_saved

        self.program, self.feeds, self.fetches, self.scope = load_saved(prefix)

    def __call__(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        import paddle

        if len(inputs) != len(self.feeds):
            raise VerificationError(
                f"the saved model takes {len(self.feeds)} inputs {self.feeds}, got {len(inputs)}"
            )
        with paddle_guard(static=True), paddle.static.scope_guard(self.scope):
            exe = paddle.static.Executor(paddle.CPUPlace())
            fetch = self.fetches if self.fetches is not None else _fetch_targets(self.program)
            results = exe.run(
                self.program, feed=dict(zip(self.feeds, inputs)), fetch_list=fetch
            )
        return [np.asarray(r) for r in results]


def _fetch_targets(program) -> list:
    return [
        op.operand_source(0) for op in program.global_block().ops if op.name() == "pd_op.fetch"
    ]
