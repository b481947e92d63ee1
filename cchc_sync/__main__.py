"""`python -m cchc_sync` is the `cchc-sync` command."""

from cchc_sync.app.cli import main

main()
