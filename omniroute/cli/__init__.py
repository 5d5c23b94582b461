"""The `omniroute` command (typer): `app` holds the commands and `main`, `sourcing` the sourcing and
orders sub-commands, `support` the console and settings loading they share."""
