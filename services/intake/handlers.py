"""What the intake service consumes and how it reacts (partner-facing stage from adjudication and sanctions events).

The dispatch table is empty until the intake workflow is built: every consumed event is still
recorded in the inbox, so nothing is lost and nothing will be handled twice once it fills.
"""

from __future__ import annotations

from shared.inbox import Handler
from shared.processes import ServiceWiring

HANDLERS: dict[str, Handler] = {}

WIRING = ServiceWiring(name="intake", consumes=("adjudication", "sanctions"), handlers=HANDLERS)
