"""`python -m omniroute.simulation ...` is `omniroute simulate ...`."""

import typer

from omniroute.simulation.command import simulate

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command()(simulate)

if __name__ == "__main__":
    app()
