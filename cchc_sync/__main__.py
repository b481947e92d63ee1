"""`python -m cchc_sync` is the `cchc-sync` command."""

from .cli import main

main()
