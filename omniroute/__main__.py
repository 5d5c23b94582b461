"""`python -m omniroute ...` is the `omniroute` command (the dev stack starts its children this way)."""

from omniroute.cli.app import main

if __name__ == "__main__":
    main()
