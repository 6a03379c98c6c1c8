"""The numbers: networks, one training step (layers), the batched loop (engine), outputs
and errors without training (evaluation), the optimizers, toynn's portable
exp/tanh/sin/cos, the numba engine, the engine registry, the datasets and the
tutorial's digits. numpy and numba only: no click, rich or yaml."""
