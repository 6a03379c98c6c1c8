"""How a grid is trained: its networks, their chunks and the number of workers."""

from __future__ import annotations

from dataclasses import dataclass

from toynn_cli.config import Experiment
from toynn_cli.core import engines, network
from toynn_cli.run import distributed, executor


@dataclass
class Plan:
    """How a grid is trained: its networks, their chunks and the number of workers."""

    specs: list[network.NetworkSpec]
    chunks: list[executor.Chunk]
    chunk_size: int
    workers: int
    #: the engine that trains every chunk (engines.choose: ``auto`` resolved)
    engine: str = "numpy"
    #: a connected Dask cluster (``--executor dask``), or None: local processes
    cluster: distributed.Cluster | None = None

    @classmethod
    def make(
        cls, experiment: Experiment, workers: int, max_memory: int, size: int | None = None
    ) -> Plan:
        specs = experiment.networks()
        data = experiment.dataset
        size = size or executor.chunk_size(
            specs,
            data.n_inputs,
            data.n_outputs,
            len(data.inputs),
            experiment.iterations,
            experiment.log_every,
            max_memory,
            workers,
            experiment.record_every,
        )
        chosen = engines.choose(experiment.engine, specs)
        return cls(specs, executor.plan(specs, size), size, workers, chosen)
