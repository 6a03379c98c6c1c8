"""Record reference trajectories from real torch.optim, for tests/test_optim.py.

Not run by the tests (torch is not a dependency of toynn). To regenerate the fixture,
in a separate virtual environment with torch and numpy::

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 numpy
    /tmp/torchvenv/bin/python tests/data/make_torch_trajectories.py

It trains the tutorial's xor network (3 inputs, 4 hidden sigmoid units, 1 sigmoid
output, no biases, loss 0.5 * sum((out - y)**2), full batch) from the tutorial's initial
weights (``np.random.seed(1)`` then ``2 * np.random.random(shape) - 1``, as toynn draws
them) in float64 for STEPS steps with each optimizer setting below, and writes
torch_trajectories.json next to this file: per run, the optimizer, lr and
hyperparameters, the mean |out - y| before every step, and the final weights (in toynn's
layout: W[k] has shape (n_k, n_k+1), input side first).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

STEPS = 50
SEED = 1
X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
Y = np.array([[0], [1], [1], [0]], dtype=np.float64)

# (toynn optimizer name, lr, hyperparameters toynn is given, torch class, torch kwargs)
RUNS = [
    ("sgd", 0.5, {}, torch.optim.SGD, {}),
    ("sgd", 0.5, {"weight_decay": 0.01}, torch.optim.SGD, {"weight_decay": 0.01}),
    ("momentum", 0.5, {}, torch.optim.SGD, {"momentum": 0.9}),
    ("momentum", 0.3, {}, torch.optim.SGD, {"momentum": 0.9}),
    (
        "momentum",
        0.5,
        {"momentum": 0.8, "dampening": 0.1, "weight_decay": 0.001},
        torch.optim.SGD,
        {"momentum": 0.8, "dampening": 0.1, "weight_decay": 0.001},
    ),
    ("nesterov", 0.5, {}, torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
    ("adagrad", 0.5, {}, torch.optim.Adagrad, {}),
    (
        "adagrad",
        0.5,
        {"lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.01},
        torch.optim.Adagrad,
        {"lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.01},
    ),
    ("adadelta", 1.0, {}, torch.optim.Adadelta, {}),
    (
        "adadelta",
        2.0,
        {"rho": 0.95, "eps": 1e-5, "weight_decay": 0.01},
        torch.optim.Adadelta,
        {"rho": 0.95, "eps": 1e-5, "weight_decay": 0.01},
    ),
    ("rmsprop", 0.01, {}, torch.optim.RMSprop, {}),
    (
        "rmsprop",
        0.01,
        {"alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.01},
        torch.optim.RMSprop,
        {"alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.01},
    ),
    ("adam", 0.05, {}, torch.optim.Adam, {}),
    ("adam", 0.1, {}, torch.optim.Adam, {}),
    (
        "adam",
        0.05,
        {"betas": [0.8, 0.99], "eps": 1e-6, "amsgrad": True, "weight_decay": 0.01},
        torch.optim.Adam,
        {"betas": (0.8, 0.99), "eps": 1e-6, "amsgrad": True, "weight_decay": 0.01},
    ),
]


def initial_weights() -> list[np.ndarray]:
    rng = np.random.RandomState(SEED)
    return [2 * rng.random_sample(shape) - 1 for shape in ((3, 4), (4, 1))]


def run(lr: float, cls: type, kwargs: dict) -> dict:
    weights = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in initial_weights()]
    x, y = torch.tensor(X), torch.tensor(Y)
    opt = cls(weights, lr=lr, **kwargs)
    errors = []
    for _ in range(STEPS):
        opt.zero_grad()
        out = torch.sigmoid(torch.sigmoid(x @ weights[0]) @ weights[1])
        errors.append(float((out - y).detach().abs().mean()))
        loss = 0.5 * ((out - y) ** 2).sum()
        loss.backward()
        opt.step()
    return {"errors": errors, "weights": [w.detach().numpy().tolist() for w in weights]}


def main() -> None:
    torch.set_default_dtype(torch.float64)
    records = []
    for name, lr, params, cls, kwargs in RUNS:
        records.append({"optimizer": name, "lr": lr, "params": params, **run(lr, cls, kwargs)})
    doc = {
        "torch_version": torch.__version__,
        "steps": STEPS,
        "seed": SEED,
        "dataset": "xor",
        "hidden": 4,
        "runs": records,
    }
    out = Path(__file__).with_name("torch_trajectories.json")
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(records)} trajectories to {out}")


if __name__ == "__main__":
    main()
