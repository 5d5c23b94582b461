"""The demo network and the `make demo` run: data files, order generator, simulated warehouse, runner."""

from omniroute.demo.runner import run_demo

__all__ = ["run_demo"]
