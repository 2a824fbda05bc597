"""`python -m services.adjudication relay|consumer|scheduler`: adjudication's background processes."""

import sys

from services.adjudication.bootstrap import WIRING
from shared.processes import run_process

run_process(WIRING, sys.argv[1:])
