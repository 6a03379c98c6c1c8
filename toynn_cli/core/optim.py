"""Optimizers: one update interface for every rule, vectorized over a batch of networks.

Like scikit-learn's ``neural_network/_stochastic_optimizers.py``, every optimizer turns
gradients into parameter updates; the engine only ever calls :meth:`Optimizer.step`.
The update rules, hyperparameter names and defaults are torch.optim's (the "Algorithm"
boxes of its documentation), with toynn's ``alpha`` as the learning rate ``lr``. Every
array is a batched weight array of shape ``(n_k, n_k+1, B)``; ``lr`` is a vector of
shape ``(B,)`` (one step size per network) that broadcasts along the last axis. All the
work is elementwise, so a network's trajectory does not depend on its batch-mates.

Notation: ``g`` gradient, ``W`` weights, ``t`` step count from 1, ``lr`` step size.
Weight decay (every optimizer has it, default 0) first adds ``weight_decay * W`` to
``g``: the gradient of the L2 penalty ``0.5 * weight_decay * sum(W**2)``.

sgd       W -= lr * g                                    (the tutorial)
momentum  b = g if t == 1 else momentum * b + (1 - dampening) * g;  W -= lr * b
nesterov  b as for momentum (dampening 0);  W -= lr * (g + momentum * b)
adagrad   lr_t = lr / (1 + (t - 1) * lr_decay);  s += g**2;  W -= lr_t * g / (sqrt(s) + eps)
adadelta  v = rho * v + (1 - rho) * g**2
          dx = sqrt(u + eps) / sqrt(v + eps) * g;  u = rho * u + (1 - rho) * dx**2
          W -= lr * dx                                   (torch's lr default is 1.0)
rmsprop   v = alpha * v + (1 - alpha) * g**2;  v~ = v
          centered: m = alpha * m + (1 - alpha) * g;  v~ = v - m**2
          momentum > 0: b = momentum * b + g / (sqrt(v~) + eps);  W -= lr * b
          else:         W -= lr * g / (sqrt(v~) + eps)
adam      m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g**2
          amsgrad: vmax = max(vmax, v), used in place of v below
          W -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

(rmsprop's ``alpha`` is torch's name for its smoothing constant, not the step size.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from toynn_cli.core import portable

#: The optimizers, in the order tables list them.
NAMES = ("sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam")

#: Every hyperparameter each optimizer uses, with torch.optim's defaults (``momentum``
#: and ``nesterov`` are torch's SGD with momentum 0.9, without and with Nesterov).
DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {"momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
    "momentum": {"momentum": 0.9, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
    "nesterov": {"momentum": 0.9, "dampening": 0.0, "nesterov": True, "weight_decay": 0.0},
    "adagrad": {
        "lr_decay": 0.0,
        "weight_decay": 0.0,
        "initial_accumulator_value": 0.0,
        "eps": 1e-10,
    },
    "adadelta": {"rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
    "rmsprop": {
        "alpha": 0.99,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum": 0.0,
        "centered": False,
    },
    "adam": {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
}

#: The hyperparameters a config may set for each optimizer (the others are what make the
#: name: plain ``sgd`` has no momentum, ``nesterov`` has no dampening).
SETTABLE: dict[str, tuple[str, ...]] = {
    "sgd": ("weight_decay",),
    "momentum": ("momentum", "dampening", "weight_decay"),
    "nesterov": ("momentum", "weight_decay"),
    **{name: tuple(DEFAULTS[name]) for name in ("adagrad", "adadelta", "rmsprop", "adam")},
}


class HyperparameterError(ValueError):
    """A hyperparameter value torch.optim would refuse; the message says what was expected."""


def check(name: str, key: str, value: Any) -> Any:
    """``value`` for hyperparameter ``key`` of optimizer ``name``, normalised (floats,
    bools, ``betas`` a pair of floats), or HyperparameterError saying what was expected."""
    default = DEFAULTS[name][key]
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise HyperparameterError("true or false")
        return value
    if key == "betas":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise HyperparameterError("a pair [beta1, beta2], each from 0 to below 1")
        pair = tuple(_number(v) for v in value)
        if not all(0 <= b < 1 for b in pair):
            raise HyperparameterError("a pair [beta1, beta2], each from 0 to below 1")
        return pair
    number = _number(value)
    if key in ("rho", "alpha"):  # smoothing constants, as torch checks them
        if not 0 <= number <= 1:
            raise HyperparameterError("a number from 0 to 1")
    elif key == "eps":
        if number <= 0:
            raise HyperparameterError("a number > 0")
    elif number < 0:
        raise HyperparameterError("a number >= 0")
    return number


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HyperparameterError("a finite number")
    try:
        number = float(value)
    except OverflowError:
        raise HyperparameterError("a finite number") from None
    if not math.isfinite(number):
        raise HyperparameterError("a finite number")
    return number


def resolve(name: str, given: dict[str, Any]) -> dict[str, Any]:
    """Every hyperparameter of ``name``: the defaults updated by ``given`` (checked)."""
    params = dict(DEFAULTS[name])
    for key, value in given.items():
        params[key] = check(name, key, value)
    if params.get("nesterov") and params["momentum"] <= 0:
        raise HyperparameterError("momentum > 0 for Nesterov momentum")
    return params


class Optimizer:
    """The update interface. ``step(weights, grads, lr)`` updates ``weights`` in place
    and returns the arrays it subtracted (``W -= step``), one per weight array; ``t``
    counts calls from 1. Subclasses keep their state in preallocated arrays."""

    name = "base"

    def __init__(self, shapes: Sequence[tuple[int, ...]], params: dict[str, Any]) -> None:
        self.params = params
        self.t = 0
        self.weight_decay = float(params.get("weight_decay", 0.0))
        self._step = [np.empty(shape) for shape in shapes]
        self._g = [np.empty(shape) for shape in shapes] if self.weight_decay else []

    def _decayed(self, k: int, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        """g + weight_decay * W (torch: ``grad = grad.add(param, alpha=weight_decay)``)."""
        if not self.weight_decay:
            return g
        out = self._g[k]
        np.multiply(w, self.weight_decay, out=out)
        np.add(g, out, out=out)
        return out

    def step(
        self, weights: list[np.ndarray], grads: list[np.ndarray], lr: np.ndarray
    ) -> list[np.ndarray]:
        self.t += 1
        for k, (w, g) in enumerate(zip(weights, grads)):
            step = self._update(k, w, self._decayed(k, w, g), lr, self._step[k])
            w -= step
        return self._step

    def _update(
        self, k: int, w: np.ndarray, g: np.ndarray, lr: np.ndarray, out: np.ndarray
    ) -> np.ndarray:
        raise NotImplementedError


class SGD(Optimizer):
    """torch.optim.SGD: plain (the tutorial), momentum, Nesterov momentum."""

    name = "sgd"

    def __init__(self, shapes: Sequence[tuple[int, ...]], params: dict[str, Any]) -> None:
        super().__init__(shapes, params)
        self.momentum = float(params["momentum"])
        self.dampening = float(params["dampening"])
        self.nesterov = bool(params["nesterov"])
        self._b = [np.zeros(shape) for shape in shapes] if self.momentum else []
        self._tmp = [np.empty(shape) for shape in shapes] if self.momentum else []

    @property
    def plain(self) -> bool:
        """The tutorial's update exactly: W -= alpha * g."""
        return not self.momentum and not self.weight_decay

    def _update(
        self, k: int, w: np.ndarray, g: np.ndarray, lr: np.ndarray, out: np.ndarray
    ) -> np.ndarray:
        if self.momentum:
            b, tmp = self._b[k], self._tmp[k]
            if self.t == 1:
                b[...] = g  # the buffer starts as the first gradient
            else:
                # b = momentum * b + (1 - dampening) * g
                b *= self.momentum
                np.multiply(g, 1.0 - self.dampening, out=tmp)
                b += tmp
            if self.nesterov:
                np.multiply(b, self.momentum, out=tmp)  # look ahead: g + momentum * b
                np.add(g, tmp, out=tmp)
                g = tmp
            else:
                g = b
        return np.multiply(lr, g, out=out)  # W -= lr * g


class Adagrad(Optimizer):
    """torch.optim.Adagrad: each weight's step shrinks with its summed squared gradients."""

    name = "adagrad"

    def __init__(self, shapes: Sequence[tuple[int, ...]], params: dict[str, Any]) -> None:
        super().__init__(shapes, params)
        init = float(params["initial_accumulator_value"])
        self._sum = [np.full(shape, init) for shape in shapes]
        self._tmp = [np.empty(shape) for shape in shapes]

    def _update(
        self, k: int, w: np.ndarray, g: np.ndarray, lr: np.ndarray, out: np.ndarray
    ) -> np.ndarray:
        p = self.params
        s, tmp = self._sum[k], self._tmp[k]
        clr = lr / (1 + (self.t - 1) * p["lr_decay"])  # lr_t, decayed per step
        np.multiply(g, g, out=tmp)
        s += tmp  # s += g**2
        np.sqrt(s, out=tmp)
        tmp += p["eps"]  # sqrt(s) + eps
        np.divide(g, tmp, out=out)
        out *= clr  # lr_t * g / (sqrt(s) + eps)
        return out


class Adadelta(Optimizer):
    """torch.optim.Adadelta: steps scaled by the ratio of running RMS of updates and
    gradients (unit-free, so torch's usual lr is 1.0)."""

    name = "adadelta"

    def __init__(self, shapes: Sequence[tuple[int, ...]], params: dict[str, Any]) -> None:
        super().__init__(shapes, params)
        self._v = [np.zeros(shape) for shape in shapes]  # running mean of g**2
        self._u = [np.zeros(shape) for shape in shapes]  # running mean of dx**2
        self._tmp = [np.empty(shape) for shape in shapes]

    def _update(
        self, k: int, w: np.ndarray, g: np.ndarray, lr: np.ndarray, out: np.ndarray
    ) -> np.ndarray:
        rho, eps = self.params["rho"], self.params["eps"]
        v, u, tmp = self._v[k], self._u[k], self._tmp[k]
        v *= rho  # v = rho * v + (1 - rho) * g**2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - rho
        v += tmp
        np.add(v, eps, out=tmp)  # dx = sqrt(u + eps) / sqrt(v + eps) * g
        np.sqrt(tmp, out=tmp)
        np.add(u, eps, out=out)
        np.sqrt(out, out=out)
        out /= tmp
        out *= g
        u *= rho  # u = rho * u + (1 - rho) * dx**2
        np.multiply(out, out, out=tmp)
        tmp *= 1 - rho
        u += tmp
        out *= lr  # W -= lr * dx
        return out


class RMSprop(Optimizer):
    """torch.optim.RMSprop: steps divided by a running RMS of the gradient."""

    name = "rmsprop"

    def __init__(self, shapes: Sequence[tuple[int, ...]], params: dict[str, Any]) -> None:
        super().__init__(shapes, params)
        self._v = [np.zeros(shape) for shape in shapes]
        self._m = [np.zeros(shape) for shape in shapes] if params["centered"] else []
        self._b = [np.zeros(shape) for shape in shapes] if params["momentum"] else []
        self._tmp = [np.empty(shape) for shape in shapes]

    def _update(
        self, k: int, w: np.ndarray, g: np.ndarray, lr: np.ndarray, out: np.ndarray
    ) -> np.ndarray:
        p = self.params
        a = p["alpha"]
        v, tmp = self._v[k], self._tmp[k]
        v *= a  # v = alpha * v + (1 - alpha) * g**2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - a
        v += tmp
        if p["centered"]:
            m = self._m[k]
            m *= a  # m = alpha * m + (1 - alpha) * g: the running mean gradient
            np.multiply(g, 1 - a, out=tmp)
            m += tmp
            np.multiply(m, m, out=tmp)  # v~ = v - m**2, an estimate of the variance
            np.subtract(v, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(v, out=tmp)
        tmp += p["eps"]  # sqrt(v~) + eps
        if p["momentum"]:
            b = self._b[k]
            b *= p["momentum"]  # b = momentum * b + g / (sqrt(v~) + eps)
            np.divide(g, tmp, out=tmp)
            b += tmp
            return np.multiply(lr, b, out=out)
        np.divide(g, tmp, out=out)
        out *= lr
        return out


class Adam(Optimizer):
    """torch.optim.Adam: bias-corrected running means of the gradient and its square."""

    name = "adam"

    def __init__(self, shapes: Sequence[tuple[int, ...]], params: dict[str, Any]) -> None:
        super().__init__(shapes, params)
        self._m = [np.zeros(shape) for shape in shapes]
        self._v = [np.zeros(shape) for shape in shapes]
        self._vmax = [np.zeros(shape) for shape in shapes] if params["amsgrad"] else []
        self._tmp = [np.empty(shape) for shape in shapes]
        self._corrections: tuple[int, float, float] = (0, 0.0, 0.0)

    def _update(
        self, k: int, w: np.ndarray, g: np.ndarray, lr: np.ndarray, out: np.ndarray
    ) -> np.ndarray:
        beta1, beta2 = self.params["betas"]
        m, v, tmp = self._m[k], self._v[k], self._tmp[k]
        m *= beta1  # m = beta1 * m + (1 - beta1) * g
        np.multiply(g, 1 - beta1, out=tmp)
        m += tmp
        v *= beta2  # v = beta2 * v + (1 - beta2) * g**2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v += tmp
        if self.params["amsgrad"]:
            np.maximum(self._vmax[k], v, out=self._vmax[k])
            v = self._vmax[k]
        # bias corrections: m and v start at 0, so early means are too small by these
        # (the powers are toynn's portable ones, computed once per step)
        if self._corrections[0] != self.t:
            self._corrections = (
                self.t,
                1 - portable.powi(beta1, self.t),
                math.sqrt(1 - portable.powi(beta2, self.t)),
            )
        _, correction1, correction2_sqrt = self._corrections
        np.sqrt(v, out=tmp)  # denominator sqrt(v / correction2) + eps
        tmp /= correction2_sqrt
        tmp += self.params["eps"]
        np.divide(m, tmp, out=out)
        out *= lr / correction1  # W -= lr / correction1 * m / denominator
        return out


_CLASSES: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": SGD,
    "nesterov": SGD,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def make(name: str, params: dict[str, Any], shapes: Sequence[tuple[int, ...]]) -> Optimizer:
    """The optimizer ``name`` with every hyperparameter in ``params`` (see :func:`resolve`),
    for weight arrays of the given (batched) shapes."""
    return _CLASSES[name](shapes, resolve(name, params))
