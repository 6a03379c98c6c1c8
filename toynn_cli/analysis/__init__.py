"""What results mean: status labels, seed ensembles, the error surface."""
