"""How a grid is trained: the plan (networks, chunks, workers, engine), chunk tasks
and the executors that run them (this machine's processes or a Dask cluster), and
signals while training. No printing."""
