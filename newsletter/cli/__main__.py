"""`python -m newsletter.cli`: the same as the `newsletter` command."""

from . import main

main()
