"""Dropship vendors: signed purchase orders out (client.py) and a vendor that answers them (sandbox.py)."""
