"""`python -m omniroute ...` is the `omniroute` command (the dev stack starts its children this way)."""

from omniroute.cli import main

if __name__ == "__main__":
    main()
