"""The peer a specialist would write: the tutorial network in JAX, jit + vmap + lax.scan.

    python bench/jax_peer.py --alphas 0.001..1000 --seeds 1..1000 --hidden 4 \\
        --iterations 10000 --devices 2

Float64 throughout (``jax_enable_x64``). The same math and the same initial weights as
toynn's engine; it records what the engine records that matters for the comparison
(error at each checkpoint, final weights, direction-change counts). ``--devices N``
splits the batch over N CPU devices (XLA's host platform device count must be set
before JAX is imported, so this file is run as its own process). It prints one JSON
line: wall seconds (compile excluded, measured separately) and a checksum.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from toynn_cli.core import network


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alphas", default="0.001..1000")
    parser.add_argument("--hidden", type=int, default=4)
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--iterations", type=int, default=10000)
    parser.add_argument("--log-every", type=int, default=10000)
    parser.add_argument("--devices", type=int, default=1)
    args = parser.parse_args()

    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={args.devices}"
    )
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax import lax

    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from toynn_cli.config import grid
    from toynn_cli.core.datasets import BUILTIN

    data = BUILTIN["xor"]
    x, y = jnp.asarray(data.x), jnp.asarray(data.y)
    specs = grid.expand([args.hidden], grid.parse_floats(args.alphas), grid.parse_ints(args.seeds))
    sizes = network.layer_sizes(x.shape[1], args.hidden, y.shape[1])
    inits = [network.initial_weights(s.seed, sizes) for s in specs]
    w0 = np.stack([w[0] for w in inits])
    w1 = np.stack([w[1] for w in inits])
    alphas = np.array([s.alpha for s in specs])
    n_checks = -(-args.iterations // args.log_every)

    def sigmoid(z):
        return 1 / (1 + jnp.exp(-z))

    def one(w0, w1, alpha):
        def step(carry, j):
            w0, w1, s0, s1, c0, c1 = carry
            l1 = sigmoid(x @ w0)
            l2 = sigmoid(l1 @ w1)
            err = l2 - y
            d2 = err * (l2 * (1 - l2))
            d1 = (d2 @ w1.T) * (l1 * (1 - l1))
            g1 = l1.T @ d2
            g0 = x.T @ d1
            n0, n1 = g0 < 0, g1 < 0
            c0 = c0 + ((n0 != s0) & (j > 0))
            c1 = c1 + ((n1 != s1) & (j > 0))
            return (w0 - alpha * g0, w1 - alpha * g1, n0, n1, c0, c1), jnp.mean(jnp.abs(err))

        def block(carry, start):
            steps = jnp.arange(args.log_every) + start
            carry, errors = lax.scan(step, carry, steps)
            return carry, errors[0]

        init = (
            w0,
            w1,
            jnp.zeros(w0.shape, bool),
            jnp.zeros(w1.shape, bool),
            jnp.zeros(w0.shape, jnp.int32),
            jnp.zeros(w1.shape, jnp.int32),
        )
        starts = jnp.arange(n_checks) * args.log_every
        (w0, w1, _, _, c0, c1), checks = lax.scan(block, init, starts)
        return w0, w1, c0, c1, checks

    d = args.devices
    if len(specs) % d:
        raise SystemExit(f"{len(specs)} networks do not split over {d} devices")
    shaped = [a.reshape(d, len(specs) // d, *a.shape[1:]) for a in (w0, w1, alphas)]
    fn = jax.pmap(jax.vmap(one)) if d > 1 else jax.jit(jax.vmap(one))
    if d == 1:
        shaped = [a[0] for a in shaped]

    start = time.perf_counter()
    compiled = fn.lower(*shaped).compile() if d == 1 else fn
    if d > 1:  # pmap compiles on its first call: run once to warm up, then time a second run
        jax.block_until_ready(fn(*shaped))
    compile_s = time.perf_counter() - start

    start = time.perf_counter()
    out = jax.block_until_ready(compiled(*shaped))
    wall = time.perf_counter() - start
    checks = np.asarray(out[4]).reshape(len(specs), -1)
    print(
        json.dumps(
            {
                "networks": len(specs),
                "iterations": args.iterations,
                "devices": d,
                "compile_s": compile_s if d == 1 else None,
                "wall_s": wall,
                "checkpoint_errors_first": checks[0].tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
