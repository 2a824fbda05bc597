"""What the sanctions service consumes and how it reacts (rulings on cases adjudication refers).

The dispatch table is empty until the sanctions workflow is built: every consumed event is still
recorded in the inbox, so nothing is lost and nothing will be handled twice once it fills.
"""

from __future__ import annotations

from shared.inbox import Handler
from shared.processes import ServiceWiring

HANDLERS: dict[str, Handler] = {}

WIRING = ServiceWiring(name="sanctions", consumes=("adjudication",), handlers=HANDLERS)
