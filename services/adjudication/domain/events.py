"""The event types adjudication records, by name (wire types are ``adjudication.snake_case``).

docs/events.md is the contract for the three that other services read:
``examination_opened``, ``case_closed_not_proven`` and ``case_referred``.
"""

from __future__ import annotations

PREFIX = "adjudication."

# Facts learned from intake (the report's facts, kept because case_registered does not repeat them).
REPORT_NOTED = PREFIX + "report_noted"
SUPPLEMENT_NOTED = PREFIX + "supplement_noted"
EXAMINATION_OPENED = PREFIX + "examination_opened"

# Who works the case, and about whom.
INVESTIGATOR_ASSIGNED = PREFIX + "investigator_assigned"
INVESTIGATOR_RECUSED = PREFIX + "investigator_recused"
SUBJECT_PROFILE_RECORDED = PREFIX + "subject_profile_recorded"

# Recommendation (KASN / BKN) and the PPK's follow-up.
RECOMMENDATION_REQUESTED = PREFIX + "recommendation_requested"
RECOMMENDATION_ISSUED = PREFIX + "recommendation_issued"
PPK_ACKNOWLEDGED = PREFIX + "ppk_acknowledged"
PPK_NONCOMPLIANCE_RECORDED = PREFIX + "ppk_noncompliance_recorded"

# Summons and examination (PP 94/2021 Ps 26–32).
SUMMONS_ISSUED = PREFIX + "summons_issued"
ATTENDANCE_RECORDED = PREFIX + "attendance_recorded"
ABSENCE_RECORDED = PREFIX + "absence_recorded"
EXAMINER_APPOINTED = PREFIX + "examiner_appointed"
TEMPORARILY_RELEASED = PREFIX + "temporarily_released"
BAP_RECORDED = PREFIX + "bap_recorded"

# Evidence and its chain of custody.
EVIDENCE_ADDED = PREFIX + "evidence_added"
EVIDENCE_CUSTODY_RECORDED = PREFIX + "evidence_custody_recorded"

# The finding and what follows from it.
FINDING_RECORDED = PREFIX + "finding_recorded"
CASE_CLOSED_NOT_PROVEN = PREFIX + "case_closed_not_proven"
CASE_REFERRED = PREFIX + "case_referred"

DEADLINE_MISSED = PREFIX + "deadline_missed"
# A breach the scheduler recorded before a fact meeting the clock in time was entered.
LAPSE_WITHDRAWN = PREFIX + "lapse_withdrawn"
