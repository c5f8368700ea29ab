"""Keep Paddle's global state (static mode, default dtype) from leaking out of our calls."""

from __future__ import annotations

import contextlib
import os

# Paddle's C++ logging is chatty at INFO; set before the first `import paddle`.
os.environ.setdefault("GLOG_minloglevel", "2")


@contextlib.contextmanager
def paddle_guard(static: bool = False):
    """Run a block in dynamic (or static) mode and restore the caller's global state."""
    import paddle

    was_dynamic = paddle.in_dynamic_mode()
    default_dtype = paddle.get_default_dtype()
    if static and was_dynamic:
        paddle.enable_static()
    elif not static and not was_dynamic:
        paddle.disable_static()
    try:
        yield
    finally:
        now_dynamic = paddle.in_dynamic_mode()
        if was_dynamic and not now_dynamic:
            paddle.disable_static()
        elif not was_dynamic and now_dynamic:
            paddle.enable_static()
        if paddle.get_default_dtype() != default_dtype:
            paddle.set_default_dtype(default_dtype)


@contextlib.contextmanager
def eval_mode(layer):
    """Put ``layer`` and its sublayers in eval mode; restore each one's own mode after."""
    states = [(sub, sub.training) for sub in layer.sublayers(include_self=True)]
    try:
        layer.eval()
        yield layer
    finally:
        for sub, training in states:
            sub.training = training
