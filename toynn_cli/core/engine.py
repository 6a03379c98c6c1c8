"""The batched training engine: many tutorial networks, one NumPy batch.

Pure NumPy: no printing, no click/rich/yaml. Progress goes through a callback.

The math is the tutorial's ("a neural network in 13 lines", part 2). For one network
with weight matrices W[0], ..., W[L-1] and inputs X (samples x inputs)::

    a[0]   = X
    a[k+1] = sigmoid(a[k] @ W[k])                 # forward, sigmoid everywhere
    err    = a[L] - y                             # the loss is 0.5 * sum(err**2)
    d[L]   = err * (a[L] * (1 - a[L]))            # dLoss/dz at the output
    d[k]   = (d[k+1] @ W[k].T) * (a[k] * (1 - a[k]))   # back through layer k
    g[k]   = a[k].T @ d[k+1]                      # dLoss/dW[k]
    W[k]   = W[k] - alpha * g[k]                  # plain gradient descent (sgd)

Other optimizers (momentum, Adam, ...) replace the last line; see optim.py. Their
updates are elementwise too, so batch independence holds for them as well.

Beyond the tutorial (each off by default, so the defaults are the tutorial's math):

* bias units: every layer's input gets a constant 1, whose weights are W[k]'s last
  row (W[k] then has n_k + 1 rows); z = a[k] @ W[k][:n_k] + W[k][n_k].
* several hidden layers: ``hidden`` is a tuple of sizes.
* hidden activations f = tanh, relu, leaky_relu (slope 0.01 below 0); the output stays
  a sigmoid. Each derivative is written from the activation a = f(z), as the tutorial
  writes sigmoid' = a(1 - a): tanh' = 1 - a**2, relu' = [a > 0], leaky' = 1 or 0.01.
* loss ``cross_entropy``: -sum(y log a + (1 - y) log(1 - a)) for the sigmoid output,
  whose dLoss/dz at the output is simply a - y = err (the sigmoid's slope cancels).
* init ``xavier`` (Glorot) and ``he``: the same uniform draws scaled to
  +-sqrt(6 / (fan_in + fan_out)) and +-sqrt(6 / fan_in).
* gradient clipping before the optimizer, as torch.nn.utils does it: ``clip_value``
  clamps every element of g to [-c, c]; ``clip_norm`` scales all of a network's
  gradients by min(1, c / (||g|| + 1e-6)), ||g|| the norm over all its weights.
* learning-rate schedules: alpha_j = alpha * factor(j), see :func:`learning_rates`.
* early stopping: a network whose error (before update j) is at most ``target_error``
  takes no more steps (its weights stay as they are while the rest of its batch trains,
  even if its optimizer's update is not finite: 0 * inf would be NaN); its record says
  at which iteration it stopped.
* mini-batches: with ``batch_size`` > 0 each update uses the gradient of the loss summed
  over ``batch_size`` samples; at the start of every epoch each network shuffles the
  samples with its own generator (``RandomState(seed)``, continuing after the initial
  weights' draws). The last batch of an epoch holds what is left. Recorded errors are
  still over the whole dataset.
* accuracy, for classification targets (every target 0 or 1): the fraction of outputs
  on the right side of 0.5 (output > 0.5 for a target 1, < 0.5 for a target 0; exactly
  0.5 or NaN is wrong), recorded at each checkpoint from the outputs the error is
  recorded from, and after the last update. For other targets it is NaN.
* dropout p on hidden layers (inverted): in training each hidden unit's output is kept
  with probability 1 - p and scaled by 1 / (1 - p), a fresh mask per iteration from the
  network's generator; d[k+1] is multiplied by the same mask. Evaluation (every
  recorded error, the outputs) uses no dropout.
* batch normalisation of hidden layers (as torch.nn.BatchNorm1d): z is normalised over
  the samples of the (mini-)batch, z^ = (z - mean) / sqrt(var + 1e-5), then scaled and
  shifted, gamma * z^ + beta (learned like weights, starting at 1 and 0), before the
  activation. Training updates running statistics (momentum 0.1, the unbiased variance);
  evaluation normalises with them.

Layout. Every network of a group has the same layer sizes; the group's weights are
stacked along a *last* batch axis: W[k] has shape (n_k, n_k+1, B), activations
(samples, n_k, B). Elementwise work then runs over contiguous memory for all B
networks at once, and the only Python loops are over iterations and over the tiny
contracted dimension of each matrix product.

Batch independence. A network's numbers must not depend on its batch-mates. So the
matrix products are not handed to BLAS (whose blocking, and so summation order, can
change with the batch size): each product is an explicit sum over the contracted
index, always in the same order (k = 0, 1, 2, ...), made of elementwise multiplies and
adds whose IEEE results do not depend on how many other elements an array holds.
Networks with different hidden sizes train in separate groups (never padded to a
common size, which would change their sums). The result: a network trained alone
and the same network inside any sweep are bit-identical.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from toynn_cli.core import optim
from toynn_cli.core.layers import (
    Workspace,
    accuracy,
    clip_norm,
    draw_masks,
    is_classification,
    mean_abs,
    update_running,
)
from toynn_cli.core.network import (
    BatchResult,
    NetworkResult,
    NetworkSpec,
    ProgressFn,
    as_list,
    checkpoints,
    distinct,
    history_schedule,
    initial_weight_rows,
    layer_sizes,
    layout_key,
    learning_rates,
    schedule_parameters,
    shuffle_generator,
    weight_layers,
)

# --- training ---------------------------------------------------------------------------


def train_batch(
    x: np.ndarray,
    y: np.ndarray,
    specs: Sequence[NetworkSpec],
    iterations: int,
    log_every: int,
    progress: Callable[[int], None] | None = None,
    record_every: int = 0,
    observe: Callable[[int, list[np.ndarray]], None] | None = None,
) -> BatchResult:
    """Train networks of one layout (:func:`layout_key`) as one batch; results in
    ``specs`` order.

    ``progress(j)`` is called now and then with the number of iterations done. The
    error is recorded every ``log_every`` iterations (the checkpoints) and, for the
    history, as :func:`history_schedule` says for ``record_every``. ``observe(j,
    weights)``, if given, sees the batched weights before update j (not to be changed:
    :func:`toynn_cli.core.evaluation.weight_path` copies what it records).
    """
    hidden = specs[0].hidden
    if any(layout_key(spec) != layout_key(specs[0]) for spec in distinct(specs)):
        raise ValueError("train_batch needs networks of one layout (see layout_key)")
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    sizes = layer_sizes(x.shape[1], hidden, y.shape[1])
    n_layers = len(sizes) - 1

    first = specs[0]
    rows = initial_weight_rows(specs, sizes, first.bias)
    initial = [
        np.ascontiguousarray(np.moveaxis(w, 0, -1)) for w in weight_layers(rows, sizes, first.bias)
    ]
    weights = [w.copy() for w in initial]
    shapes = [w.shape for w in weights]
    alphas = np.array([spec.alpha for spec in specs], dtype=np.float64)
    target = y[:, :, None]

    check_its = checkpoints(iterations, log_every)
    hist_its = history_schedule(iterations, record_every)
    # recorded errors are stored network-first, as returned: no copy at the end (the
    # history is most of a large chunk's result)
    check_errors = np.empty((len(specs), len(check_its)))
    hist_errors = np.empty((len(specs), len(hist_its)))
    classify = is_classification(y)
    check_accuracy = np.full((len(specs), len(check_its)), np.nan)
    next_check = next_hist = 0
    # int32 counts add a bool array twice as fast as int64 (2**31 iterations is far away)
    changes = [np.zeros(w.shape, dtype=np.int32) for w in weights]
    report_every = max(1, iterations // 100)

    work = Workspace(x, sizes, len(specs), first.bias, first.activation, first.loss)
    # batch norm: gamma and beta learned like weights; running statistics for evaluation
    bn = first.batch_norm and n_layers > 1
    bn_params: list[np.ndarray] = []
    running: list[np.ndarray] = []
    if bn:
        for n in sizes[1:-1]:
            bn_params += [np.ones((n, len(specs))), np.zeros((n, len(specs)))]
            running += [np.zeros((n, len(specs))), np.ones((n, len(specs)))]
        work.enable_batch_norm(bn_params, running, training=False)
    # mini-batches: a workspace per batch length (a shorter last batch gets its own)
    samples = x.shape[0]
    batch_size, dropout = first.batch_size, first.dropout
    if batch_size or dropout:
        rngs = [shuffle_generator(spec.seed, sizes, first.bias, spec.init) for spec in specs]
    if batch_size:
        per_epoch = -(-samples // batch_size)
        mini = {}
        for m in {batch_size, samples - (per_epoch - 1) * batch_size}:
            placeholder = np.empty((m, x.shape[1], len(specs)))
            mini[m] = Workspace(
                placeholder, sizes, len(specs), first.bias, first.activation, first.loss
            )
            if dropout:
                mini[m].enable_dropout()
            if bn:
                mini[m].enable_batch_norm(bn_params, running, training=True)
    elif dropout or bn:  # training sees dropped units / batch statistics; `work` evaluates
        train_work = Workspace(x, sizes, len(specs), first.bias, first.activation, first.loss)
        if dropout:
            train_work.enable_dropout()
        if bn:
            train_work.enable_batch_norm(bn_params, running, training=True)
    sign = [np.empty(w.shape, dtype=bool) for w in weights]
    previous_sign = [np.empty(w.shape, dtype=bool) for w in weights]
    flipped = [np.empty(w.shape, dtype=bool) for w in weights]
    step = [np.empty(w.shape) for w in weights]
    # early stopping: which networks still train, and when the others stopped
    stopping = first.target_error > 0
    active = np.ones(len(specs), dtype=bool)
    stopped_at = np.full(len(specs), -1, dtype=np.int64)
    schedule = schedule_parameters(first)
    scheduled = first.schedule != "constant"
    optimizer = optim.make(
        specs[0].optimizer, dict(specs[0].optimizer_params), shapes + [p.shape for p in bn_params]
    )
    # the tutorial's update, kept exactly as written (bit for bit: the golden test)
    plain = isinstance(optimizer, optim.SGD) and optimizer.plain

    with np.errstate(all="ignore"):  # overflow and NaN are results here, not warnings
        for j in range(iterations):
            if observe is not None:
                observe(j, weights)
            activations = work.forward(weights)
            err = np.subtract(activations[-1], target, out=work.err)
            if stopping:
                current = mean_abs(err)
                reached = active & (current <= first.target_error)
                stopped_at[reached] = j
                active &= ~reached
            if next_check < len(check_its) and check_its[next_check] == j:
                check_errors[:, next_check] = mean_abs(err)
                if classify:
                    check_accuracy[:, next_check] = accuracy(activations[-1], target)
                next_check += 1
            if next_hist < len(hist_its) and hist_its[next_hist] == j:
                hist_errors[:, next_hist] = mean_abs(err)
                next_hist += 1
            if stopping and not active.any():
                # every network has stopped: no weight moves again, so each later
                # recorded error is the one it has now
                check_errors[:, next_check:] = current[:, None]
                hist_errors[:, next_hist:] = current[:, None]
                if classify:
                    check_accuracy[:, next_check:] = accuracy(activations[-1], target)[:, None]
                break

            if batch_size:
                position = j % per_epoch
                if position == 0:  # a new epoch: each network shuffles the samples
                    order = np.stack([rng.permutation(samples) for rng in rngs], axis=1)
                index = order[position * batch_size : (position + 1) * batch_size]  # (m, B)
                part = mini[len(index)]
                # network b's samples: x[index[:, b]], laid out (m, inputs, B)
                part.x = np.ascontiguousarray(x[index].transpose(0, 2, 1))
                part_target = y[index].transpose(0, 2, 1)
            elif dropout or bn:
                part, part_target = train_work, target
            if batch_size or dropout or bn:
                if dropout:
                    draw_masks(part.masks, rngs, dropout)
                part_acts = part.forward(weights)
                part_err = np.subtract(part_acts[-1], part_target, out=part.err)
                grads = part.backward(part_acts, part_err, weights)
                if bn:
                    grads = grads + part.bn_grads  # then dLoss/dgamma, dLoss/dbeta
                    update_running(part, running, active if stopping else None)
            else:
                grads = work.backward(activations, err, weights)
            if first.clip_value:  # clamp each element to [-c, c]
                for g in grads:
                    np.clip(g, -first.clip_value, first.clip_value, out=g)
            if first.clip_norm:
                clip_norm(grads, first.clip_norm)
            lr = alphas  # constant: the tutorial's, and no per-iteration work
            if scheduled:
                lr = learning_rates(alphas, first.schedule, schedule, j, iterations)
            if stopping:
                lr = lr * active  # a stopped network takes steps of 0
            # W = W - update, with update = alpha * g (the tutorial's step) or the
            # optimizer's; a weight moves up when its update is < 0, and its direction
            # changed when that differs from the previous iteration's
            # a stopped network's weights stay as they are (its step, lr * 0 * update, is
            # 0 unless the update is not finite)
            learned = weights + bn_params
            frozen = [w.copy() for w in learned] if stopping and not active.all() else None
            if plain:
                updates = []
                for k, g in enumerate(grads[:n_layers]):
                    np.multiply(lr, g, out=step[k])
                    weights[k] -= step[k]
                    updates.append(g)  # the sign of alpha * g is g's (alpha > 0)
                for p, g in zip(bn_params, grads[n_layers:]):
                    p -= lr * g
            else:
                updates = optimizer.step(weights + bn_params, grads, lr)
            if frozen is not None:
                for w, before in zip(learned, frozen):
                    np.copyto(w, before, where=~active)
            for k, update in enumerate(updates[:n_layers]):
                np.less(update, 0.0, out=sign[k])
                if j > 0:
                    np.not_equal(sign[k], previous_sign[k], out=flipped[k])
                    if stopping:
                        flipped[k] &= active
                    np.add(changes[k], flipped[k], out=changes[k], casting="unsafe")
            sign, previous_sign = previous_sign, sign

            if progress is not None and (j + 1) % report_every == 0:
                progress(j + 1)

        final_out = work.forward(weights)[-1]
        final_errors = mean_abs(final_out - target)
        final_accuracy = accuracy(final_out, target) if classify else np.full(len(specs), np.nan)
    if progress is not None:
        progress(iterations)

    def batch_first(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(a, -1, 0))

    return BatchResult(
        specs=as_list(specs),
        iterations=iterations,
        checkpoint_iterations=check_its,
        checkpoint_errors=check_errors,
        final_error=final_errors,
        history_iterations=hist_its,
        history_errors=hist_errors,
        weights_initial=[batch_first(w) for w in initial],
        weights=[batch_first(w) for w in weights],
        direction_changes=[batch_first(c).astype(np.int64) for c in changes],
        outputs=batch_first(final_out),
        stopped_at=stopped_at,
        batch_norm=(
            [
                batch_first(a)
                for i in range(0, len(bn_params), 2)
                for a in (bn_params[i], bn_params[i + 1], running[i], running[i + 1])
            ]
            if bn
            else None
        ),
        checkpoint_accuracy=check_accuracy,
        final_accuracy=final_accuracy,
    )


def group_by_layout(specs: Sequence[NetworkSpec]) -> list[list[int]]:
    """Indices of ``specs`` grouped by :func:`layout_key` (hidden size, optimizer and its
    hyperparameters), groups in order of first appearance: one batch each."""
    groups: dict[tuple, list[int]] = {}
    for i, spec in enumerate(specs):
        groups.setdefault(layout_key(spec), []).append(i)
    return list(groups.values())


def train_groups(
    x: np.ndarray,
    y: np.ndarray,
    specs: Sequence[NetworkSpec],
    iterations: int,
    log_every: int,
    progress: ProgressFn | None = None,
    record_every: int = 0,
) -> Iterator[list[tuple[int, NetworkResult]]]:
    """Train every network, one batch per layout (:func:`group_by_layout`); yield each
    group's results as ``(index into specs, result)`` pairs as soon as it is done."""
    groups = group_by_layout(specs)
    total = iterations * len(groups)
    for g, indices in enumerate(groups):
        done_before = g * iterations

        def report(j: int, done_before: int = done_before) -> None:
            if progress is not None:
                progress(done_before + j, total)

        batch = train_batch(
            x, y, [specs[i] for i in indices], iterations, log_every, report, record_every
        )
        yield list(zip(indices, batch.networks()))


def train(
    x: np.ndarray,
    y: np.ndarray,
    specs: Sequence[NetworkSpec],
    iterations: int,
    log_every: int,
    progress: ProgressFn | None = None,
    record_every: int = 0,
) -> list[NetworkResult]:
    """Train every network of ``specs``; results in the same order."""
    results: list[NetworkResult | None] = [None] * len(specs)
    for group in train_groups(x, y, specs, iterations, log_every, progress, record_every):
        for i, result in group:
            results[i] = result
    return results  # type: ignore[return-value]
