"""Parts of `omniroute bench`: the trivial baseline workflow, the measurements, the report."""
