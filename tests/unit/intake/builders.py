"""Builders for intake reports: a complete, admissible Bawaslu laporan unless told otherwise."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from services.intake.domain.report import (
    Channel,
    Election,
    ElectionType,
    EmployeeType,
    Incident,
    PositionKind,
    Report,
    Reporter,
    ReportKind,
    Subject,
)

WITA = timezone(timedelta(hours=8))  # Bali; the contract's example offset
VALID_NIP = "198503122010011004"
VALID_NI_PPPK = "199001012021211001"

FULL_REPORTER = Reporter(name="Ni Luh Contoh", address="Tabanan", contact="+62812", confidential=True)


def a_report(
    *,
    channel: Channel = Channel.BAWASLU,
    kind: ReportKind = ReportKind.LAPORAN,
    election: ElectionType = ElectionType.PILKADA_BUP,
    year: int | None = None,
    employee_type: EmployeeType = EmployeeType.PNS,
    nip: str | None = VALID_NIP,
    ni_pppk: str | None = None,
    name: str | None = "I Made Contoh",
    position_kind: PositionKind | None = PositionKind.ADMINISTRATOR,
    agency: str | None = "Pemerintah Provinsi Bali",
    incident_date: date | None = None,
    province: str | None = "Bali",
    regency: str | None = "Tabanan",
    description: str | None = "Shared and commented on a candidate pair's campaign post.",
    known_at: date = date(2024, 10, 8),
    reported_on: date | None = None,
    reported_at: datetime | None = None,
    codes: tuple[str, ...] = ("N2",),
    reporter: Reporter | None = FULL_REPORTER,
    source_ref: str | None = "023/LP/PB/Kab/17.03/X/2024",
) -> Report:
    """A report; ``reported_on`` is a WITA office-hours filing date (default: two days on)."""
    if reported_at is None:
        day = reported_on or known_at + timedelta(days=2)
        reported_at = datetime.combine(day, time(10, 30), tzinfo=WITA)
    if employee_type is EmployeeType.PPPK and ni_pppk is None:
        nip, ni_pppk = None, VALID_NI_PPPK
    if employee_type is EmployeeType.NON_ASN:
        nip = None
    return Report(
        channel=channel,
        kind=kind,
        election=Election(type=election, year=year or known_at.year),
        subject=Subject(
            employee_type=employee_type,
            name=name,
            nip=nip,
            ni_pppk=ni_pppk,
            position_kind=position_kind,
            agency=agency,
        ),
        incident=Incident(
            date=incident_date or known_at, province=province, regency=regency, description=description
        ),
        known_at=known_at,
        reported_at=reported_at,
        alleged_violations=codes,
        reporter=reporter,
        source_ref=source_ref,
    )
