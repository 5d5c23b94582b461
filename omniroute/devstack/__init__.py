"""The embedded dev stack behind `omniroute dev`: `stack.DevStack` starts Temporal, the sandboxes, the
worker and the gateway as supervised child processes on free ports.

Kept empty of imports so that `python -m omniroute.devstack.orphan_guard` starts without loading the rest.
"""
