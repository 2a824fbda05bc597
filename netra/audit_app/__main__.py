"""``python -m netra.audit_app relay``: the auditor app's outbox relay.

It publishes the record of auditors' reads (the ``audit`` store) to ``audit.case-events``
with the same relay the services use (``shared.outbox``), so the record has a second copy
outside the database and ``netra audit verify`` compares the two byte for byte: a read
record deleted, edited or reordered in the store is a named finding. ``make run`` starts it
(``netra.supervisor``); it beats as process ``relay`` of ``audit``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from netra.audit_app import SERVICE
from shared.config import Settings
from shared.processes import run_relay


def main(argv: Sequence[str]) -> None:
    """Run the background process named in ``argv`` (only ``relay``) until signalled."""
    parser = argparse.ArgumentParser(prog="python -m netra.audit_app")
    parser.add_argument("process", choices=["relay"], help="the background process to run")
    parser.parse_args(argv)
    run_relay(Settings.from_env(), SERVICE)


main(sys.argv[1:])
