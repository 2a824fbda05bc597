"""What the intake service consumes and how it reacts: the partner-facing stage of a case
from adjudication and sanctions events (services.intake.stages). Every other consumed event
is still recorded in the inbox, so nothing is lost and nothing is handled twice."""

from __future__ import annotations

from services.intake.stages import STAGE_OF, on_stage_event
from shared.inbox import Handler
from shared.processes import ServiceWiring

HANDLERS: dict[str, Handler] = dict.fromkeys(STAGE_OF, on_stage_event)

WIRING = ServiceWiring(name="intake", consumes=("adjudication", "sanctions"), handlers=HANDLERS)
