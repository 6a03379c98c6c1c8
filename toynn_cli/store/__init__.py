"""The run folder, its one writer and one reader: atomic files and the lock (runs),
the records and chunk files (results), writing a run (writer), reading runs back,
listing and comparing them (workspace). No printing."""
