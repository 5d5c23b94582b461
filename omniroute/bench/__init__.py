"""`omniroute bench`: `run.run_bench` drives the measurements in `kit` and writes bench/RESULTS.md."""
