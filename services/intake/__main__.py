"""`python -m services.intake relay|consumer|webhooks|retention`: intake's background processes."""

import sys

from services.intake.bootstrap import WIRING
from services.intake.retention import run_retention
from services.intake.webhook_worker import run_webhook_worker
from shared.processes import run_process

run_process(WIRING, sys.argv[1:], extra={"webhooks": run_webhook_worker, "retention": run_retention})
