"""The event types intake records, by name (wire types are ``intake.snake_case``).

docs/events.md is the contract for what other services read: ``report_received``,
``report_supplemented`` and ``case_registered``.
"""

from __future__ import annotations

PREFIX = "intake."

# A report and the case it opens or joins.
REPORT_RECEIVED = PREFIX + "report_received"
CASE_REGISTERED = PREFIX + "case_registered"
REPORT_LINKED = PREFIX + "report_linked"
REPORT_MARKED_INCOMPLETE = PREFIX + "report_marked_incomplete"
CASE_FORWARDED_OUT_OF_SCOPE = PREFIX + "case_forwarded_out_of_scope"
REPORT_SUPPLEMENTED = PREFIX + "report_supplemented"

# The partner-facing stage, from what adjudication and sanctions publish (domain.stages).
CASE_STAGE_CHANGED = PREFIX + "case_stage_changed"
CASE_STAGE_NOTED = PREFIX + "case_stage_noted"

# Personal data (domain.disclosure): who was shown a reporter's identity, and its erasure.
REPORTER_IDENTITY_DISCLOSED = PREFIX + "reporter_identity_disclosed"
PERSONAL_DATA_ERASED = PREFIX + "personal_data_erased"
