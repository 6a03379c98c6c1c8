"""What a network is: its settings (NetworkSpec), its record (NetworkResult, a
batch's BatchResult), its layer sizes and initial weights, and when its error is
recorded. Pure NumPy."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import operator
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from toynn_cli.core import optim, portable, seeded

#: ``progress(done, total)``: iterations done so far over all groups, and the total.
ProgressFn = Callable[[int, int], None]

#: How many points of error history each network records (besides the checkpoints).
HISTORY_POINTS = 200


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """One network of a sweep: its step size, hidden-layer size (0: none), seed, and
    optimizer with the hyperparameters set explicitly (the rest take torch.optim's
    defaults, see :func:`hyperparameters`)."""

    alpha: float
    hidden: int
    seed: int
    optimizer: str = "sgd"
    optimizer_params: tuple[tuple[str, object], ...] = ()
    bias: bool = False
    activation: str = "sigmoid"  # of the hidden layers; the output is always a sigmoid
    loss: str = "squared"
    init: str = "uniform"
    clip_value: float = 0.0  # 0: off
    clip_norm: float = 0.0  # 0: off
    schedule: str = "constant"
    schedule_params: tuple[tuple[str, object], ...] = ()
    target_error: float = 0.0  # 0: off
    batch_size: int = 0  # 0: full batch (the tutorial)
    dropout: float = 0.0  # probability of dropping a hidden unit in training; 0: off
    batch_norm: bool = False  # batch normalisation of the hidden layers


#: Learning-rate schedules and their parameters' defaults (t_max 0: the run's length).
SCHEDULES: dict[str, dict[str, float]] = {
    "constant": {},
    "step": {"step_size": 1000, "gamma": 0.1},
    "exponential": {"gamma": 0.999},
    "cosine": {"t_max": 0, "eta_min": 0.0},
}


def schedule_parameters(spec: NetworkSpec) -> dict[str, float]:
    """Every parameter of the network's schedule (defaults filled in)."""
    return {**SCHEDULES[spec.schedule], **dict(spec.schedule_params)}  # type: ignore[arg-type]


def learning_rates(
    alphas: np.ndarray, schedule: str, params: dict[str, float], j: int, iterations: int
) -> np.ndarray:
    """The step sizes for update j (from 0), closed forms as torch.optim.lr_scheduler's:

    constant     alpha
    step         alpha * gamma ** (j // step_size)
    exponential  alpha * gamma ** j
    cosine       eta_min + (alpha - eta_min) * (1 + cos(pi * j / t_max)) / 2
                 (t_max defaults to the number of iterations; after it, eta_min)

    The powers and the cosine are toynn's portable ones (:mod:`toynn_cli.core.portable`),
    the same bits on every machine.
    """
    if schedule == "constant":
        return alphas
    if schedule == "step":
        return alphas * portable.powi(params["gamma"], j // int(params["step_size"]))
    if schedule == "exponential":
        return alphas * portable.powi(params["gamma"], j)
    t_max = int(params["t_max"]) or iterations
    eta_min = params["eta_min"]
    factor = (1 + portable.cos_scalar(np.pi * min(j, t_max) / t_max)) / 2
    return eta_min + (alphas - eta_min) * factor


#: Hidden-layer activations, losses and initialisations (the first of each: the tutorial).
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
LOSSES = ("squared", "cross_entropy")
INITS = ("uniform", "xavier", "he")
#: leaky_relu's slope below zero
LEAKY_SLOPE = 0.01
#: batch normalisation: torch.nn.BatchNorm1d's eps and running-statistics momentum
BN_EPS = 1e-5
BN_MOMENTUM = 0.1
BN_ARRAYS = ("gamma", "beta", "running_mean", "running_var")


def hidden_layers(hidden: int | Sequence[int]) -> tuple[int, ...]:
    """Hidden sizes as a tuple: 0 -> (), 4 -> (4,), (8, 4) -> (8, 4)."""
    if isinstance(hidden, int | np.integer):
        return (int(hidden),) if hidden > 0 else ()
    return tuple(int(h) for h in hidden)


def hyperparameters(spec: NetworkSpec) -> dict[str, object]:
    """Every hyperparameter of the network's optimizer (defaults filled in)."""
    return optim.resolve(spec.optimizer, dict(spec.optimizer_params))


def fields_but(*left_out: str) -> Callable[[NetworkSpec], tuple]:
    """A reader of every field of a spec but ``left_out``, as one tuple (an attrgetter:
    a hashable key far cheaper than a spec copied with those fields blanked)."""
    return operator.attrgetter(
        *(f.name for f in dataclasses.fields(NetworkSpec) if f.name not in left_out)
    )


#: each field of a spec and the setter of its slot
_SLOTS = tuple(
    (f.name, NetworkSpec.__dict__[f.name].__set__) for f in dataclasses.fields(NetworkSpec)
)


def with_alphas_and_seeds(
    template: NetworkSpec, alphas: Sequence[float], seeds: Sequence[int]
) -> list[NetworkSpec]:
    """``template`` with each alpha and seed, seeds innermost: equal to
    ``[dataclasses.replace(template, alpha=a, seed=s) for a in alphas for s in seeds]``,
    each spec's slots set directly (a frozen dataclass's ``__init__`` sets every field
    through ``object.__setattr__``: W4's 10^6 specs took 2.5 s, now 1.5)."""
    setters = dict(_SLOTS)
    set_alpha, set_seed = setters.pop("alpha"), setters.pop("seed")
    fixed = [(setter, getattr(template, name)) for name, setter in setters.items()]
    new = object.__new__
    specs = []
    for alpha in alphas:
        for seed in seeds:
            spec = new(NetworkSpec)
            set_alpha(spec, alpha)
            set_seed(spec, seed)
            for setter, value in fixed:
                setter(spec, value)
            specs.append(spec)
    return specs


#: the fields in which the networks of a Grid's run differ: the rest are the run's
PER_NETWORK = ("alpha", "seed")
#: a spec's fields but its alpha and seed: networks that differ only in these share
#: their layout and every engine's verdict on them
_settings_key = fields_but(*PER_NETWORK)


class Grid(list):
    """A sweep's networks in grid order, and where each run of networks that share every
    setting but alpha and seed starts (``starts``, ascending, 0 first; a run may be
    split in two, as where chunks were joined): config's grid expansion makes one, a
    run per optimizer, hidden size and architecture. With it
    :func:`distinct` and :func:`layout_keys` look at one spec a run, not at every spec
    (10^6 networks: 0.7 s each, several times a sweep). A slice is a Grid of its own;
    the methods that would change it raise TypeError (its runs would no longer hold)."""

    __slots__ = ("starts",)

    def __init__(self, specs: Sequence[NetworkSpec] = (), starts: Sequence[int] = (0,)) -> None:
        super().__init__(specs)
        self.starts = tuple(sorted({s for s in (0, *starts) if 0 <= s < len(self)}))

    def __getitem__(self, index):  # type: ignore[override]
        got = super().__getitem__(index)
        if not isinstance(index, slice) or index.step not in (None, 1):
            return got
        a, b, _ = index.indices(len(self))
        inside = self.starts[
            bisect.bisect_right(self.starts, a) : bisect.bisect_left(self.starts, b)
        ]
        return Grid(got, (0, *(s - a for s in inside)))

    def __reduce__(self):
        return Grid, (list(self), self.starts)

    def _unchanged(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a Grid of networks is not to be changed (copy it with list())")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _unchanged
    append = extend = insert = pop = remove = clear = sort = reverse = _unchanged


def as_list(specs: Sequence[NetworkSpec]) -> list[NetworkSpec]:
    """``specs`` as a list: a Grid as it is (it keeps its runs), else a new list."""
    return specs if isinstance(specs, Grid) else list(specs)


def joined(parts: Sequence[Sequence[NetworkSpec]]) -> list[NetworkSpec]:
    """The specs of ``parts`` one after another: a Grid if every part is one (their runs
    kept), else a list."""
    if not all(isinstance(part, Grid) for part in parts):
        return [spec for part in parts for spec in part]
    specs: list[NetworkSpec] = []
    starts: list[int] = []
    for part in parts:
        starts.extend(len(specs) + s for s in part.starts)  # type: ignore[attr-defined]
        specs.extend(part)
    return Grid(specs, starts)


def runs(specs: Sequence[NetworkSpec]) -> list[tuple[int, int]]:
    """[start, stop) ranges of ``specs`` whose networks share every setting but alpha
    and seed: a Grid's runs, else one range a network."""
    if not isinstance(specs, Grid):
        return list(zip(range(len(specs)), range(1, len(specs) + 1)))
    return list(zip(specs.starts, [*specs.starts[1:], len(specs)]))


def heads(specs: Sequence[NetworkSpec]) -> Sequence[NetworkSpec]:
    """The first spec of each of :func:`runs`: a Grid's few, else every spec."""
    if not isinstance(specs, Grid):
        return specs
    return [list.__getitem__(specs, i) for i in specs.starts]


def distinct(specs: Sequence[NetworkSpec]) -> list[NetworkSpec]:
    """One spec of each setting among ``specs`` but alpha and seed, in order of first
    appearance: what a check of every network's layout or engine needs to look at (a
    sweep of 10^6 networks over alphas and seeds: a handful)."""
    found: dict[tuple, NetworkSpec] = {}
    for spec in heads(specs):
        found.setdefault(_settings_key(spec), spec)
    return list(found.values())


def layout_keys(specs: Sequence[NetworkSpec]) -> list[tuple]:
    """:func:`layout_key` of every spec, computed once per distinct setting."""
    found: dict[tuple, tuple] = {}
    keys: list[tuple] = []
    for (start, stop), spec in zip(runs(specs), heads(specs)):
        settings = _settings_key(spec)
        key = found.get(settings)
        if key is None:
            key = found[settings] = layout_key(spec)
        keys.extend([key] * (stop - start))
    return keys


def layout_key(spec: NetworkSpec) -> tuple:
    """What networks of one batch must share: array shapes and the code path (layer
    sizes, bias, activation, loss, the optimizer and its hyperparameters). Alpha, the
    seed and the initialisation vary within a batch."""
    return (
        hidden_layers(spec.hidden),
        spec.bias,
        spec.activation,
        spec.loss,
        spec.optimizer,
        tuple(hyperparameters(spec).items()),
        spec.clip_value,
        spec.clip_norm,
        spec.schedule,
        tuple(schedule_parameters(spec).items()),
        spec.target_error,
        spec.batch_size,
        spec.dropout,
        spec.batch_norm,
    )


@dataclass
class NetworkResult:
    """Everything recorded for one trained network (arrays are its own copies)."""

    spec: NetworkSpec
    iterations: int
    checkpoint_iterations: np.ndarray  # (C,) the j with j % log_every == 0
    checkpoint_errors: np.ndarray  # (C,) mean |output - target| before update j
    final_error: float  # the same after the last update
    history_iterations: np.ndarray  # (R,) a finer record of the error, for diagnostics
    history_errors: np.ndarray  # (R,)
    weights_initial: list[np.ndarray]  # input side first, each (n_k, n_k+1)
    weights: list[np.ndarray]  # after the last update
    direction_changes: list[np.ndarray]  # per weight: how often its step changed sign
    outputs: np.ndarray  # (samples, outputs) after the last update
    stopped_at: int | None = None  # early stopping: the iteration it stopped at, or None
    #: batch norm: per hidden layer {"gamma", "beta", "running_mean", "running_var"}
    batch_norm: list[dict[str, np.ndarray]] | None = None
    #: classification targets only (else None): accuracy at each checkpoint (C,), final
    checkpoint_accuracy: np.ndarray | None = None
    final_accuracy: float | None = None


@dataclass
class BatchResult:
    """Everything recorded for a batch of networks of one layer layout, column-wise:
    the batch axis comes first in every per-network array. ``network(b)`` gives one
    network's record; for large sweeps the arrays are stored as they are."""

    specs: list[NetworkSpec]
    iterations: int
    checkpoint_iterations: np.ndarray  # (C,)
    checkpoint_errors: np.ndarray  # (B, C)
    final_error: np.ndarray  # (B,)
    history_iterations: np.ndarray  # (R,)
    history_errors: np.ndarray  # (B, R)
    weights_initial: list[np.ndarray]  # each (B, n_k, n_k+1)
    weights: list[np.ndarray]
    direction_changes: list[np.ndarray]  # int64
    outputs: np.ndarray  # (B, samples, outputs)
    stopped_at: np.ndarray | None = None  # (B,) int64, -1: did not stop early
    #: batch norm: [gamma_1, beta_1, running_mean_1, running_var_1, ...], each (B, n)
    batch_norm: list[np.ndarray] | None = None
    #: accuracy (see :func:`accuracy`) at each checkpoint (B, C) and final (B,); NaN
    #: when the targets are not all 0 or 1; None: not recorded (older chunk files)
    checkpoint_accuracy: np.ndarray | None = None
    final_accuracy: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.specs)

    def network(self, b: int) -> NetworkResult:
        """Network ``b``'s record (its arrays are views into this batch)."""
        return NetworkResult(
            spec=self.specs[b],
            iterations=self.iterations,
            checkpoint_iterations=self.checkpoint_iterations,
            checkpoint_errors=self.checkpoint_errors[b],
            final_error=float(self.final_error[b]),
            history_iterations=self.history_iterations,
            history_errors=self.history_errors[b],
            weights_initial=[w[b] for w in self.weights_initial],
            weights=[w[b] for w in self.weights],
            direction_changes=[c[b] for c in self.direction_changes],
            outputs=self.outputs[b],
            stopped_at=(
                None
                if self.stopped_at is None or self.stopped_at[b] < 0
                else int(self.stopped_at[b])
            ),
            batch_norm=(
                None
                if self.batch_norm is None
                else [
                    dict(zip(BN_ARRAYS, (a[b] for a in self.batch_norm[i : i + 4]), strict=True))
                    for i in range(0, len(self.batch_norm), 4)
                ]
            ),
            checkpoint_accuracy=(
                None
                if self.final_accuracy is None or np.isnan(self.final_accuracy[b])
                else self.checkpoint_accuracy[b]
            ),
            final_accuracy=(
                None
                if self.final_accuracy is None or np.isnan(self.final_accuracy[b])
                else float(self.final_accuracy[b])
            ),
        )

    def networks(self) -> list[NetworkResult]:
        return [self.network(b) for b in range(len(self.specs))]


def layer_sizes(n_inputs: int, hidden: int | Sequence[int], n_outputs: int) -> list[int]:
    """Sizes of the layers: inputs, the hidden layers (none for 0), outputs."""
    return [n_inputs, *hidden_layers(hidden), n_outputs]


def initial_weights(
    seed: int, sizes: Sequence[int], bias: bool = False, init: str = "uniform"
) -> list[np.ndarray]:
    """The tutorial's initialisation: uniform in [-1, 1), input side first.

    ``RandomState(seed)`` draws exactly what the tutorial's ``np.random.seed(seed)``
    followed by ``np.random.random`` draws; the global generator is never touched.
    With ``bias`` each matrix has one more row (the bias weights, drawn like the
    others). ``xavier`` and ``he`` scale the same draws to +-sqrt(6 / (fan_in +
    fan_out)) (Glorot & Bengio) and +-sqrt(6 / fan_in) (He et al., uniform form).
    """
    return _draw(_reseeded(seed), sizes, bias, init)


#: One generator per thread, re-seeded for each network's initial weights:
#: ``rng.seed(seed)`` gives exactly ``RandomState(seed)``'s stream, about 100 times
#: faster (a new RandomState first seeds itself from the operating system's entropy).
_generators = threading.local()


def _reseeded(seed: int) -> np.random.RandomState:
    """This thread's generator, seeded as ``RandomState(seed)`` would be (not to be kept:
    the next call re-seeds it)."""
    rng = getattr(_generators, "rng", None)
    if rng is None:
        rng = _generators.rng = np.random.RandomState(0)
    rng.seed(seed)
    return rng


def initial_weight_rows(
    specs: Sequence[NetworkSpec], sizes: Sequence[int], bias: bool = False
) -> np.ndarray:
    """Every network's :func:`initial_weights` as one row of a (networks, parameters)
    array, its layers' matrices flattened in order (input side first): each distinct
    (seed, init) drawn once (:func:`toynn_cli.core.seeded.random_rows`: RandomState's
    numbers for all seeds at once), then mapped to [-1, 1) and scaled for its init all
    rows at once (the same operations as :func:`_draw`, so the same bits; 68493 networks
    of 16 weights in 0.08 s, network by network 0.36 s)."""
    return seeded_weight_rows([(spec.seed, spec.init) for spec in specs], sizes, bias)


def seeded_weight_rows(
    keys: Sequence[tuple[int, str]], sizes: Sequence[int], bias: bool = False
) -> np.ndarray:
    """:func:`initial_weight_rows` of networks given by their (seed, init) alone (what a
    chunk file keeps of them, see toynn_cli.store.chunks)."""
    distinct = {key: i for i, key in enumerate(dict.fromkeys(keys))}
    pairs = list(itertools.pairwise(sizes))
    counts = [(n_in + bias) * n_out for n_in, n_out in pairs]
    rows = seeded.random_rows(np.array([seed for seed, _ in distinct], dtype=np.int64), sum(counts))
    rows *= 2  # 2 r - 1, in place: the same two roundings
    rows -= 1
    inits = np.array([init for _, init in distinct])
    start = 0
    for (n_in, n_out), count in zip(pairs, counts):
        for init, scale in INIT_SCALES.items():
            chosen = inits == init
            if chosen.any():
                rows[chosen, start : start + count] *= np.sqrt(scale(n_in, n_out))
        start += count
    return rows[[distinct[key] for key in keys]] if len(distinct) < len(keys) else rows


def weight_layers(rows: np.ndarray, sizes: Sequence[int], bias: bool = False) -> list[np.ndarray]:
    """The layers of :func:`initial_weight_rows`' rows: views of shape (networks,
    inputs (+ 1 for the bias), units)."""
    layers, start = [], 0
    for n_in, n_out in itertools.pairwise(sizes):
        count = (n_in + bias) * n_out
        layers.append(rows[:, start : start + count].reshape(len(rows), n_in + bias, n_out))
        start += count
    return layers


#: The initialisations that scale the uniform draws, to +-sqrt(this(fan_in, fan_out)):
#: Glorot & Bengio's and He et al.'s uniform forms ("uniform" keeps [-1, 1))
INIT_SCALES: dict[str, Callable[[int, int], float]] = {
    "xavier": lambda n_in, n_out: 6.0 / (n_in + n_out),
    "he": lambda n_in, n_out: 6.0 / n_in,
}


def shuffle_generator(
    seed: int, sizes: Sequence[int], bias: bool = False, init: str = "uniform"
) -> np.random.RandomState:
    """The network's generator after its initial weights were drawn: it shuffles the
    samples for mini-batches (one generator per network, as a script would use one)."""
    rng = np.random.RandomState(seed)
    _draw(rng, sizes, bias, init)
    return rng


def _draw(
    rng: np.random.RandomState, sizes: Sequence[int], bias: bool, init: str
) -> list[np.ndarray]:
    # one draw for every layer (the same stream as a draw a layer: each double takes the
    # generator's next two words), mapped to [-1, 1) at once; the layers are its views
    pairs = list(itertools.pairwise(sizes))
    shapes = [(n_in + 1 if bias else n_in, n_out) for n_in, n_out in pairs]
    flat = rng.random_sample(sum(a * b for a, b in shapes))
    flat *= 2  # 2 r - 1, in place: the same two roundings
    flat -= 1
    weights, start = [], 0
    for (n_in, n_out), (a, b) in zip(pairs, shapes):
        w = flat[start : start + a * b].reshape(a, b)
        start += a * b
        scale = INIT_SCALES.get(init)
        if scale is not None:
            w *= np.sqrt(scale(n_in, n_out))
        weights.append(w)
    return weights


def checkpoints(iterations: int, log_every: int) -> np.ndarray:
    """The iterations whose error is reported: every j < iterations with j % log_every == 0."""
    return np.arange(0, iterations, log_every, dtype=np.int64)


def tail_start(iterations: int) -> int:
    """The first iteration of the run's last tenth: the status rule compares the final
    error with the error there ("was it still learning?")."""
    return iterations - max(1, iterations // 10)


def history_schedule(iterations: int, every: int = 0) -> np.ndarray:
    """The iterations whose error the history records: every ``every``-th from 0 (0, the
    default: about :data:`HISTORY_POINTS` evenly spaced), plus :func:`tail_start`, which
    the status rule reads, so that a network's status never depends on ``every``."""
    step = every or max(1, iterations // HISTORY_POINTS)
    its = np.arange(0, iterations, step, dtype=np.int64)
    if iterations > 0:
        its = np.union1d(its, np.array([tail_start(iterations)], dtype=np.int64))
    return its


def history_length(iterations: int, every: int = 0) -> int:
    """``len(history_schedule(iterations, every))``, computed without making the array
    (a config may ask for 10^12 iterations recorded every one: it is refused by size)."""
    if iterations <= 0:
        return 0
    step = every or max(1, iterations // HISTORY_POINTS)
    return -(-iterations // step) + (1 if tail_start(iterations) % step else 0)
