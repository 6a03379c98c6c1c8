"""toynn: an experiment runner for toy neural networks."""

__version__ = "0.1.0"
