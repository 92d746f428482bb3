"""`python -m hab_aux` (and `torchrun -m hab_aux train ...`) runs the habaux CLI."""

from hab_aux.cli import main

main()
