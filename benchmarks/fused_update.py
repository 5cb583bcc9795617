"""Study for issue 28, item 1: Keras' Adamax update against TensorFlow's fused ``ResourceApplyAdaMax`` in hhnb's loop.

Interleaved in one process, same data, seed and settings as ``bench_jax`` (resolved kl=1, 8 epochs, no early
stop): :func:`hhnb.nn.fit.fit` as it is, and with the step's ``optimizer.apply`` replaced by one fused kernel per
variable on Keras' own slots (the same update, m = b1 m + (1 - b1) g, u = max(b2 u, |g|),
w -= lr / (1 - b1^t) m / (u + eps); only the float32 rounding differs). Prints the median steady epoch of each
fit, their ratio per repeat, and the validation losses. Not part of ``make bench``: a decision aid.

    .venv/bin/python benchmarks/fused_update.py [repeats]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_jax import EPOCHS, arrays  # noqa: E402

from hhnb.config.training import HyperParameters  # noqa: E402
from hhnb.nn import backend, loop  # noqa: E402
from hhnb.nn.fit import fit  # noqa: E402


def fused_adamax(model):
    """The update ``update(gradients, variables)`` of :func:`hhnb.nn.loop._steps_function` as one
    ``tf.raw_ops.ResourceApplyAdaMax`` per variable on the compiled Adamax' own slots and step counter."""
    tf = backend.tensorflow()
    opt = model.optimizer
    opt.build(model.trainable_variables)  # as the loop does before it asks for the update
    lr = tf.constant(float(opt.learning_rate.numpy()), tf.float32)
    b1, b2, eps = (tf.constant(float(v), tf.float32) for v in (opt.beta_1, opt.beta_2, opt.epsilon))

    def update(grads, variables):
        power = tf.pow(b1, tf.cast(opt.iterations + 1, tf.float32))
        for v, g in zip(variables, grads):
            i = opt._get_variable_index(v)
            tf.raw_ops.ResourceApplyAdaMax(var=v.value.handle, m=opt._m[i].value.handle, v=opt._u[i].value.handle,
                                           beta1_power=power, lr=lr, beta1=b1, beta2=b2, epsilon=eps, grad=g)
        opt.iterations.assign_add(1)

    return update


def fused_steps_function(model, x, y, w, batch_size: int, penalty=None):
    """hhnb's steps function with the fused Adamax update."""
    return keras_steps(model, x, y, w, batch_size, penalty, update=fused_adamax(model))


keras_steps = loop._steps_function


def main(repeats: int = 3) -> None:
    ana, x, y, sw, xv, yv, wv, _ = arrays()
    hyper = HyperParameters.scaled(ana.learning_rate, epochs=EPOCHS, patience=100)
    ratios = []
    for r in range(repeats):
        times = {}
        for name, steps in (("keras", keras_steps), ("fused", fused_steps_function)):
            loop._steps_function = steps
            try:
                res = fit(x, y, sw, xv, yv, wv, len(ana.classes), hyper, seed=1)
            finally:
                loop._steps_function = keras_steps
            times[name] = res.steady_epoch_s
            print(f"repeat {r} {name}: median steady epoch {res.steady_epoch_s:.4f} s, whole fit "
                  f"{res.train_time_s:.2f} s, val loss last {res.history['val_loss'][-1]:.4f} best "
                  f"{min(res.history['val_loss']):.4f}", flush=True)
        ratios.append(times["keras"] / times["fused"])
    print(f"speed-up of the fused update per epoch (keras / fused): repeats "
          f"{', '.join(f'{v:.3f}' for v in ratios)}; median {np.median(ratios):.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
