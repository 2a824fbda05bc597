"""`python -m services.sanctions relay|consumer|scheduler`: sanctions' background processes."""

import sys

from services.sanctions.bootstrap import WIRING
from shared.processes import run_process

run_process(WIRING, sys.argv[1:])
