"""What the adjudication service consumes and how it reacts (examination files opened from intake's registered cases).

The dispatch table is empty until the adjudication workflow is built: every consumed event is still
recorded in the inbox, so nothing is lost and nothing will be handled twice once it fills.
"""

from __future__ import annotations

from shared.inbox import Handler
from shared.processes import ServiceWiring

HANDLERS: dict[str, Handler] = {}

WIRING = ServiceWiring(name="adjudication", consumes=("intake",), handlers=HANDLERS)
