"""The lifecycle as a table: every action in every state is either carried out (landing in a
state the table names) or refused with a 409 naming the state and the allowed actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from services.adjudication.domain import (
    assignment,
    evidence,
    examination,
    finding,
    recommendation,
    summons,
)
from services.adjudication.domain import commands as c
from services.adjudication.domain.case import State
from services.adjudication.domain.lifecycle import ACTIONS, TRANSITIONS, allowed_actions
from services.adjudication.domain.vocabulary import (
    AttendanceMode,
    CustodyAction,
    ExaminerMode,
    Level,
    RecommendationCategory,
    TeamRole,
)
from shared.outcome import Outcome
from shared.refusals import IllegalTransition
from tests.unit.adjudication.builders import SUPERVISOR, Story, d

TEAM = c.AppointExaminer(
    ExaminerMode.TIM_PEMERIKSA,
    (
        c.TeamMember("Kadis", TeamRole.ATASAN_LANGSUNG),
        c.TeamMember("Irban", TeamRole.PENGAWASAN),
        c.TeamMember("BKPSDM", TeamRole.KEPEGAWAIAN),
    ),
    d("2024-02-06"),
)
N4 = (c.ViolationInput("N4"),)

# One valid command per action, valid in every state that allows it.
COMMANDS: dict[str, tuple[Callable[..., Outcome], Any]] = {
    "assignment": (assignment.assign, c.AssignInvestigator("inv.other", "rebalanced")),
    "recusal": (assignment.recuse, c.Recuse("related to the subject")),
    "subject-profile": (assignment.record_subject_profile, c.RecordSubjectProfile(is_ppk=False)),
    "evidence": (evidence.add_evidence, c.AddEvidence("ev-2", "PHOTO", "https://x/2", "ef" * 32)),
    "custody": (evidence.record_custody, c.RecordCustody("ev-1", CustodyAction.EXAMINED, d("2024-03-22"))),
    "recommendation-request": (
        recommendation.request_recommendation,
        c.RequestRecommendation(d("2024-02-13")),
    ),
    "recommendation": (
        recommendation.record_recommendation,
        c.RecordRecommendation("R-1", d("2024-03-04"), RecommendationCategory.DISIPLIN, Level.BERAT),
    ),
    "ppk-acknowledgement": (
        recommendation.acknowledge,
        c.AcknowledgeRecommendation(d("2024-03-05"), "Gubernur"),
    ),
    "summons": (summons.issue_summons, c.IssueSummons("S-1", d("2024-03-06"), d("2024-03-15"), "Kadis")),
    "attendance": (summons.record_attendance, c.RecordAttendance(d("2024-03-22"), AttendanceMode.TATAP_MUKA)),
    "absence": (summons.record_absence, c.RecordAbsence(d("2024-03-22"))),
    "second-summons": (
        summons.issue_second_summons,
        c.IssueSummons("S-2", d("2024-03-18"), d("2024-03-22"), "Kadis"),
    ),
    "examiner": (examination.appoint_examiner, TEAM),
    "temporary-release": (
        examination.release_temporarily,
        c.ReleaseTemporarily(d("2024-03-22"), "K-1", "witnesses"),
    ),
    "bap": (examination.record_bap, c.RecordBap("https://x/bap", "ab" * 32, d("2024-03-22"), True)),
    "finding": (finding.record_finding, c.RecordFinding(True, "proven by the BAP", N4)),
}

# How to reach each state (after opening, assigning, naming the team and receiving evidence).
PATHS: dict[State, list[str]] = {
    State.OPENED: [],
    State.RECOMMENDATION_REQUESTED: ["recommendation-request"],
    State.RECOMMENDATION_ISSUED: ["recommendation-request", "recommendation"],
    State.PPK_ACKNOWLEDGED: ["recommendation-request", "recommendation", "ppk-acknowledgement"],
    State.SUMMONS_1_ISSUED: ["summons"],
    State.SUMMONS_1_MISSED: ["summons", "absence"],
    State.SUMMONS_2_ISSUED: ["summons", "absence", "second-summons"],
    State.EXAMINATION: ["summons", "attendance"],
    State.DECIDED_ON_EVIDENCE: ["summons", "absence", "second-summons", "absence"],
    State.BAP_SIGNED: ["summons", "attendance", "bap"],
    State.REFERRED: ["summons", "attendance", "bap", "finding"],
    State.CLOSED_NOT_PROVEN: ["summons", "attendance", "bap", "finding-not-proven"],
}
NOT_PROVEN = (finding.record_finding, c.RecordFinding(False, "the photo shows someone else"))

REACHABLE = [s for s in State if s is not State.AWAITING_REGISTRATION]


def story_in(state: State) -> Story:
    story = Story().opened(alleged=("N4",))
    story.do(assignment.assign, c.AssignInvestigator("inv.putu"), SUPERVISOR)
    story.do(examination.appoint_examiner, TEAM, SUPERVISOR)
    story.do(evidence.add_evidence, c.AddEvidence("ev-1", "PHOTO", "https://x/1", "cd" * 32), SUPERVISOR)
    for action in PATHS[state]:
        decider, command = NOT_PROVEN if action == "finding-not-proven" else COMMANDS[action]
        story.do(decider, command, SUPERVISOR)
    assert story.case.state is state
    return story


def test_every_action_has_a_command_and_every_state_a_path() -> None:
    assert set(COMMANDS) == set(ACTIONS)
    assert set(PATHS) == set(REACHABLE)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", REACHABLE, ids=str)
def test_each_action_in_each_state_is_carried_out_or_refused_with_409(state: State, action: str) -> None:
    story = story_in(state)
    decider, command = COMMANDS[action]
    if state in TRANSITIONS[action]:
        story.do(decider, command, SUPERVISOR)
        assert story.case.state in TRANSITIONS[action][state]
    else:
        with pytest.raises(IllegalTransition) as refused:
            story.do(decider, command, SUPERVISOR)
        assert refused.value.state == state.value
        assert refused.value.allowed == tuple(allowed_actions(state))
        assert action not in refused.value.allowed


def test_closed_cases_allow_only_the_return_of_evidence() -> None:
    assert allowed_actions(State.REFERRED) == ["custody"]
    assert allowed_actions(State.CLOSED_NOT_PROVEN) == ["custody"]
