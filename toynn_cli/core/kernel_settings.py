"""The numba engine's settings of a batch as two arrays, ``codes`` and ``hyper`` (see
:mod:`toynn_cli.core._numba_update`), and the choice of compiled version they make:
pure Python and NumPy, so that the engine decides what a batch needs without importing
numba (the fused kernels of the tutorial's networks run without it, see
:mod:`toynn_cli.core._fused_native`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from toynn_cli.core import network

# optimizers: PLAIN is the tutorial's W -= lr * g, whose direction is g's sign
PLAIN, SGD, ADAGRAD, ADADELTA, RMSPROP, ADAM = range(6)
OPTIMIZERS = {"sgd": SGD, "momentum": SGD, "nesterov": SGD, "adagrad": ADAGRAD}
OPTIMIZERS |= {"adadelta": ADADELTA, "rmsprop": RMSPROP, "adam": ADAM}
CONSTANT, STEP, EXPONENTIAL, COSINE = range(4)
SCHEDULES = {"constant": CONSTANT, "step": STEP, "exponential": EXPONENTIAL, "cosine": COSINE}
# the network's own settings, which the forward and backward passes read
SIGMOID, TANH, RELU, LEAKY_RELU = range(4)
ACTIVATIONS = {"sigmoid": SIGMOID, "tanh": TANH, "relu": RELU, "leaky_relu": LEAKY_RELU}
SQUARED, CROSS_ENTROPY = range(2)
LOSSES = {"squared": SQUARED, "cross_entropy": CROSS_ENTROPY}

# codes[...]
C_OPTIMIZER, C_NESTEROV, C_CENTERED, C_AMSGRAD, C_SCHEDULE, C_STEP_SIZE, C_T_MAX = range(7)
C_STOPPING, C_BIAS, C_ACTIVATION, C_LOSS = range(7, 11)
N_CODES = 11
# hyper[...]: H_SMOOTHING is adadelta's rho or rmsprop's alpha
H_WEIGHT_DECAY, H_MOMENTUM, H_DAMPENING, H_LR_DECAY, H_EPS, H_SMOOTHING = range(6)
H_BETA1, H_BETA2, H_CLIP_VALUE, H_CLIP_NORM, H_GAMMA, H_ETA_MIN = range(6, 12)
H_TARGET_ERROR, H_INITIAL_ACCUMULATOR = 12, 13
N_HYPER = 14


def settings(spec: network.NetworkSpec, iterations: int) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, hyper)`` for a batch of networks of ``spec``'s layout, trained for
    ``iterations`` (a cosine schedule's default t_max)."""
    codes = np.zeros(N_CODES, dtype=np.int64)
    hyper = np.zeros(N_HYPER)
    p: dict[str, Any] = network.hyperparameters(spec)
    optimizer = OPTIMIZERS[spec.optimizer]
    if optimizer == SGD and not p["momentum"] and not p["weight_decay"]:
        optimizer = PLAIN  # the tutorial's update exactly (optim.SGD.plain)
    codes[C_OPTIMIZER] = optimizer
    codes[C_NESTEROV] = bool(p.get("nesterov", False))
    codes[C_CENTERED] = bool(p.get("centered", False))
    codes[C_AMSGRAD] = bool(p.get("amsgrad", False))
    hyper[H_WEIGHT_DECAY] = p["weight_decay"]
    hyper[H_MOMENTUM] = p.get("momentum", 0.0)
    hyper[H_DAMPENING] = p.get("dampening", 0.0)
    hyper[H_LR_DECAY] = p.get("lr_decay", 0.0)
    hyper[H_EPS] = p.get("eps", 0.0)
    hyper[H_SMOOTHING] = p.get("rho", p.get("alpha", 0.0))
    hyper[H_BETA1], hyper[H_BETA2] = p.get("betas", (0.0, 0.0))
    hyper[H_INITIAL_ACCUMULATOR] = p.get("initial_accumulator_value", 0.0)
    hyper[H_CLIP_VALUE] = spec.clip_value
    hyper[H_CLIP_NORM] = spec.clip_norm
    schedule = network.schedule_parameters(spec)
    codes[C_SCHEDULE] = SCHEDULES[spec.schedule]
    if spec.schedule == "step":
        codes[C_STEP_SIZE] = int(schedule["step_size"])
    if spec.schedule in ("step", "exponential"):
        hyper[H_GAMMA] = schedule["gamma"]
    if spec.schedule == "cosine":
        codes[C_T_MAX] = int(schedule["t_max"]) or iterations
        hyper[H_ETA_MIN] = schedule["eta_min"]
    codes[C_STOPPING] = spec.target_error > 0
    codes[C_BIAS] = spec.bias
    codes[C_ACTIVATION] = ACTIVATIONS[spec.activation]
    codes[C_LOSS] = LOSSES[spec.loss]
    hyper[H_TARGET_ERROR] = spec.target_error
    return codes, hyper


def general(codes: np.ndarray, hyper: np.ndarray) -> bool:
    """Whether a batch needs the kernels for every setting rather than the tutorial's
    (``_numba_kernels.build``): anything but sigmoid units, squared loss and plain
    gradient descent at a constant step without clipping or early stopping (bias and
    the layers are the tutorial kernels' too)."""
    return bool(
        codes[C_ACTIVATION] != SIGMOID
        or codes[C_LOSS] != SQUARED
        or codes[C_OPTIMIZER] != PLAIN
        or codes[C_SCHEDULE] != CONSTANT
        or codes[C_STOPPING]
        or hyper[H_CLIP_VALUE] != 0.0
        or hyper[H_CLIP_NORM] != 0.0
    )


def state_slots(codes: np.ndarray, hyper: np.ndarray) -> int:
    """How many ``(params, n)`` arrays the optimizer keeps."""
    optimizer = codes[C_OPTIMIZER]
    if optimizer == SGD:
        return 1 if hyper[H_MOMENTUM] else 0  # the momentum buffer
    if optimizer == ADAGRAD:
        return 1  # the sum of squared gradients
    if optimizer == ADADELTA:
        return 2  # running means of g**2 and of dx**2
    if optimizer == RMSPROP:  # v, then m (centered), then the momentum buffer
        return 1 + int(codes[C_CENTERED]) + (1 if hyper[H_MOMENTUM] else 0)
    if optimizer == ADAM:
        return 2 + int(codes[C_AMSGRAD])  # m, v, then vmax (amsgrad)
    return 0


def initial_state(codes: np.ndarray, hyper: np.ndarray, params: int, n: int) -> np.ndarray:
    """The optimizer's state before the first step, ``(slots, params, n)``: zeros, but
    Adagrad's sum starts at ``initial_accumulator_value`` (as optim.py's)."""
    state = np.zeros((state_slots(codes, hyper), params, n))
    if codes[C_OPTIMIZER] == ADAGRAD:
        state[0] = hyper[H_INITIAL_ACCUMULATOR]
    return state


def scratch_sizes(
    sizes: np.ndarray, samples: int, bias: bool, slots: int, block: int
) -> tuple[int, int, int]:
    """Elements of the three scratch arrays (float64, int64, bool) a thread of the
    segment kernels needs for blocks of up to ``block`` networks of layer ``sizes``
    (an array) on ``samples`` samples with ``slots`` optimizer state slots: the block's
    weights, state, activations, deltas, errors, gradients and step sizes
    (``_numba_kernels.block_train`` carves them out of these)."""
    layers = sizes.shape[0] - 1
    params = 0
    units = 0
    for k in range(layers):
        params += (sizes[k] + bias) * sizes[k + 1]
    for k in range(layers + 1):
        units += sizes[k]
    rows = samples * units  # activations (and deltas), the inputs' rows first
    errors = samples * sizes[layers]
    floats = block * (params * (3 + slots) + 2 * rows + errors + 6)  # 6 one-row arrays
    return floats, params * block + 2 * layers + 3, (params + 1) * block


#: The segment kernels' C entry point (``_numba_kernels.native``), its arguments in
#: order: pointers to float64 ("f8"), int64 ("i8") or bool ("b1") data, or an int64
#: ("int"). x, y, sizes, w, prev, changes, state, active, stopped_at, alphas, codes,
#: hyper, check_its, hist_its, check_err, check_acc, hist_err, final_err, outputs; j0,
#: j1, samples, inputs, outputs per sample, layers + 1, parameters, networks, state
#: slots, checks, histories, finals, output rows, block; first, last, the three scratch
#: arrays (:func:`scratch_sizes`) and their lengths.
SEGMENT_ARGS = (
    ("f8", "f8", "i8", "f8", "b1", "i8", "f8", "b1", "i8", "f8", "i8", "f8")
    + ("i8", "i8", "f8", "f8", "f8", "f8", "f8")
    + ("int",) * 14
    + ("int", "int", "f8", "i8", "b1", "int", "int", "int")
)
