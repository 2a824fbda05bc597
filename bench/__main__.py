"""``python -m bench`` (``make bench``): see bench.core for what is measured."""

from bench.core import main

main()
