"""The peer a specialist would write: the tutorial network in JAX, jit + vmap + lax.scan.

    python bench/jax_peer.py --alphas 0.001..1000 --seeds 1..1000 --hidden 4 \\
        --iterations 10000 --devices 2

Float64 throughout (``jax_enable_x64``). The same math and the same initial weights as
toynn's engine; it records what the engine records that matters for the comparison
(error at each checkpoint, final weights, direction-change counts; not the error
history). It prints one JSON line: compile seconds, run seconds and their sum
(``total_s``, what bench/run.py compares with), and the first network's checkpoints.

Its fastest formulation on this machine's CPU, found by trying (bench/README.md):

* ``vmap`` of the one-network program (batched 4x3 and 4x4 products) beat writing the
  networks on the last axis with broadcast sums (3.4x slower);
* ``--block`` networks at a time (``lax.map`` over blocks of ``vmap``): a block's
  state stays in cache for all iterations; 500 networks a block ran W2 2.2x faster
  than one vmap over all 7000 (7.9e6 against 3.4e6 network-iterations/s);
* XLA's CPU client runs this program on one thread (98-99 % CPU). ``--devices N``
  splits the batch over N host devices (``--xla_force_host_platform_device_count``,
  set before JAX is imported, so this file runs as its own process) with
  ``shard_map``, each device training its share of the blocks, no communication: with
  both cores free, W2 ran 1.8x faster on two devices than on one (``pmap`` ran 1.3x
  slower and cannot time its compile apart; ``jit`` with inputs sharded over the
  devices, measured only while the other core was busy, 2.3x slower). bench/run.py also runs K processes at once, each with
  ``--part I/K`` of the grid, as toynn's worker processes do, and compares with the
  fastest.
* ``lax.scan`` unrolling (4, 16) gained at most 20 % on W1 and cost compile time.

An earlier version always ran whole segments of ``--log-every`` iterations: with
fewer iterations than that (W4: 1000 of 10000) it ran 10000.

The batch is padded (with copies of the last network, dropped from the output) to
``devices x blocks x block``, the block size chosen so that this adds less than one
network a block.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alphas", default="0.001..1000")
    parser.add_argument("--hidden", type=int, default=4)
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--iterations", type=int, default=10000)
    parser.add_argument("--log-every", type=int, default=10000)
    parser.add_argument("--devices", type=int, default=1)
    parser.add_argument("--block", type=int, default=500, help="networks per lax.map step")
    parser.add_argument(
        "--part", default="1/1", help="I/K: train only the I-th of K equal shares of the grid"
    )
    args = parser.parse_args()

    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={args.devices}"
    )
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax import lax
    from jax.sharding import Mesh
    from jax.sharding import PartitionSpec as P

    try:
        from jax import shard_map
    except ImportError:  # older JAX
        from jax.experimental.shard_map import shard_map

    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from toynn_cli.config import grid
    from toynn_cli.core import network
    from toynn_cli.core.datasets import BUILTIN

    data = BUILTIN["xor"]
    x, y = jnp.asarray(data.x), jnp.asarray(data.y)
    specs = grid.expand([args.hidden], grid.parse_floats(args.alphas), grid.parse_ints(args.seeds))
    part, parts = (int(v) for v in args.part.split("/"))
    share = -(-len(specs) // parts)
    specs = specs[(part - 1) * share : part * share]
    sizes = network.layer_sizes(x.shape[1], args.hidden, y.shape[1])
    inits = [network.initial_weights(s.seed, sizes) for s in specs]
    n, d = len(specs), args.devices
    per_device = -(-n // d)
    blocks = -(-per_device // args.block)
    block = -(-per_device // blocks)  # at most args.block, padding below one per block
    padded = d * blocks * block
    keep = list(range(n)) + [n - 1] * (padded - n)
    w0 = np.stack([inits[i][0] for i in keep])
    w1 = np.stack([inits[i][1] for i in keep])
    alphas = np.array([specs[i].alpha for i in keep])
    # checkpoints at every j % log_every == 0: full segments of log_every iterations,
    # then what is left (its first iteration is a checkpoint too)
    full, rest = divmod(args.iterations, args.log_every)

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

        def segment(carry, start, length=args.log_every):
            steps = jnp.arange(length) + start
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
        carry, checks = lax.scan(segment, init, jnp.arange(full) * args.log_every)
        if rest:
            carry, last = segment(carry, full * args.log_every, rest)
            checks = jnp.concatenate([checks, last[None]])
        w0, w1, _, _, c0, c1 = carry
        return w0, w1, c0, c1, checks

    batched = jax.vmap(one)

    def local(w0, w1, alphas):
        """One device's networks, ``block`` at a time."""
        k = w0.shape[0] // block

        def split(a):
            return a.reshape(k, block, *a.shape[1:])

        out = lax.map(lambda a: batched(*a), (split(w0), split(w1), split(alphas)))
        return jax.tree_util.tree_map(lambda a: a.reshape(k * block, *a.shape[2:]), out)

    if d > 1:
        mesh = Mesh(np.array(jax.devices()[:d]), ("b",))
        spec = P("b")
        try:
            mapped = shard_map(local, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False)
        except TypeError:  # older JAX: check_rep
            mapped = shard_map(local, mesh=mesh, in_specs=spec, out_specs=spec, check_rep=False)
        fn = jax.jit(mapped)
    else:
        fn = jax.jit(local)

    start = time.perf_counter()
    compiled = fn.lower(w0, w1, alphas).compile()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    out = jax.block_until_ready(compiled(w0, w1, alphas))
    run_s = time.perf_counter() - start
    checks = np.asarray(out[4])[:n]
    print(
        json.dumps(
            {
                "networks": n,
                "part": args.part,
                "padded": padded,
                "iterations": args.iterations,
                "devices": d,
                "block": block,
                "compile_s": compile_s,
                "run_s": run_s,
                "total_s": compile_s + run_s,
                "checkpoint_errors_first": checks[0].tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
