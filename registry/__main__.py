"""`python -m registry` is the `registry` command."""

from registry.cli import app

app(prog_name="registry")
