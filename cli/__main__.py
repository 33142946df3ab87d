"""`python -m cli`: the same as the `regime` command."""

from .main import main

main()
