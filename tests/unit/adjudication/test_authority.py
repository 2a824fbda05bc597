"""Who may decide, for every row of docs/law.md §4 (PP 94/2021 Ps 17–25), from the subject's
position kind and agency level, and who decides the sample cases."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from services.adjudication.domain.authority import Profile, authorities, deciding_official
from services.adjudication.domain.rules import HierarchyRow
from services.adjudication.domain.vocabulary import AgencyLevel as A
from services.adjudication.domain.vocabulary import Category, EmployeeType, Level, Official
from services.adjudication.domain.vocabulary import PositionKind as P
from services.adjudication.domain.vocabulary import Relation as Rel
from tests.unit.adjudication.builders import BOOK

RULES = BOOK.in_force(date(2024, 10, 12))
ALL = ["RINGAN", "SEDANG", "BERAT", "PTDH"]


def pns(kind: P, level: A, is_ppk: bool = False) -> Profile:
    return Profile(EmployeeType.PNS, kind, level, is_ppk)


# (§4 row, subject, official, relation, may_impose, penalty restriction)
ROWS = [
    ("President: JPT utama, all", pns(P.JPT_UTAMA, A.CENTRAL), Official.PRESIDEN, None, ALL, {}),
    (
        "President: JPT madya who is PPK, all",
        pns(P.JPT_MADYA, A.PROVINCIAL, True),
        Official.PRESIDEN,
        None,
        ALL,
        {},
    ),
    (
        "President: other JPT madya, B3",
        pns(P.JPT_MADYA, A.CENTRAL),
        Official.PRESIDEN,
        None,
        ["BERAT", "PTDH"],
        {"BERAT": ["B3"]},
    ),
    (
        "President: JF ahli utama, B3",
        pns(P.JF_AHLI_UTAMA, A.REGENCY_CITY),
        Official.PRESIDEN,
        None,
        ["BERAT", "PTDH"],
        {"BERAT": ["B3"]},
    ),
    (
        "Central PPK: JPT madya, ringan sedang B1–B2",
        pns(P.JPT_MADYA, A.CENTRAL),
        Official.PPK_PUSAT,
        None,
        ["RINGAN", "SEDANG", "BERAT"],
        {"BERAT": ["B1", "B2"]},
    ),
    (
        "Provincial PPK: JPT pratama, sedang berat",
        pns(P.JPT_PRATAMA, A.PROVINCIAL),
        Official.PPK_PROVINSI,
        None,
        ["SEDANG", "BERAT", "PTDH"],
        {},
    ),
    (
        "Central PPK: JF ahli utama, ringan sedang B1–B2",
        pns(P.JF_AHLI_UTAMA, A.CENTRAL),
        Official.PPK_PUSAT,
        None,
        ["RINGAN", "SEDANG", "BERAT"],
        {"BERAT": ["B1", "B2"]},
    ),
    (
        "Provincial PPK: administrators and below, berat",
        pns(P.PELAKSANA, A.PROVINCIAL),
        Official.PPK_PROVINSI,
        None,
        ["BERAT", "PTDH"],
        {},
    ),
    ("Central PPK: other JF, berat", pns(P.JF, A.CENTRAL), Official.PPK_PUSAT, None, ["BERAT", "PTDH"], {}),
    (
        "Regency PPK: JPT pratama, all",
        pns(P.JPT_PRATAMA, A.REGENCY_CITY),
        Official.PPK_KABUPATEN_KOTA,
        None,
        ALL,
        {},
    ),
    (
        "Regency PPK: JF ahli utama, ringan sedang B1–B2",
        pns(P.JF_AHLI_UTAMA, A.REGENCY_CITY),
        Official.PPK_KABUPATEN_KOTA,
        None,
        ["RINGAN", "SEDANG", "BERAT"],
        {"BERAT": ["B1", "B2"]},
    ),
    (
        "Regency PPK: administrators and below, sedang berat",
        pns(P.ADMINISTRATOR, A.REGENCY_CITY),
        Official.PPK_KABUPATEN_KOTA,
        None,
        ["SEDANG", "BERAT", "PTDH"],
        {},
    ),
    (
        "Regency PPK: other JF, berat",
        pns(P.JF, A.REGENCY_CITY),
        Official.PPK_KABUPATEN_KOTA,
        None,
        ["BERAT", "PTDH"],
        {},
    ),
    (
        "JPT madya: one level down, ringan",
        pns(P.JPT_PRATAMA, A.PROVINCIAL),
        Official.JPT_MADYA,
        Rel.ONE_LEVEL_UP,
        ["RINGAN"],
        {},
    ),
    (
        "JPT madya: two levels down, sedang",
        pns(P.ADMINISTRATOR, A.PROVINCIAL),
        Official.JPT_MADYA,
        Rel.TWO_LEVELS_UP,
        ["SEDANG"],
        {},
    ),
    (
        "JPT pratama: one level down, ringan",
        pns(P.ADMINISTRATOR, A.CENTRAL),
        Official.JPT_PRATAMA,
        Rel.ONE_LEVEL_UP,
        ["RINGAN"],
        {},
    ),
    (
        "JPT pratama: two levels down, sedang",
        pns(P.PENGAWAS, A.PROVINCIAL),
        Official.JPT_PRATAMA,
        Rel.TWO_LEVELS_UP,
        ["SEDANG"],
        {},
    ),
    (
        "Administrator: one level down, ringan",
        pns(P.PENGAWAS, A.REGENCY_CITY),
        Official.ADMINISTRATOR,
        Rel.ONE_LEVEL_UP,
        ["RINGAN"],
        {},
    ),
    (
        "Administrator: two levels down, sedang",
        pns(P.PELAKSANA, A.CENTRAL),
        Official.ADMINISTRATOR,
        Rel.TWO_LEVELS_UP,
        ["SEDANG"],
        {},
    ),
    (
        "Administrator: JF, ringan sedang",
        pns(P.JF, A.PROVINCIAL),
        Official.ADMINISTRATOR,
        Rel.ONE_LEVEL_UP,
        ["RINGAN", "SEDANG"],
        {},
    ),
    (
        "Pengawas: one level down, ringan",
        pns(P.PELAKSANA, A.REGENCY_CITY),
        Official.PENGAWAS,
        Rel.ONE_LEVEL_UP,
        ["RINGAN"],
        {},
    ),
]


@pytest.mark.parametrize(
    ("row", "subject", "official", "relation", "may_impose", "penalties"), ROWS, ids=[r[0] for r in ROWS]
)
def test_every_row_of_the_table_gives_that_official_that_power(
    row: str,
    subject: Profile,
    official: Official,
    relation: Rel | None,
    may_impose: list[str],
    penalties: dict,
) -> None:
    found = [a.record() for a in authorities(subject, RULES)]
    expected = {
        "official": official.value,
        "relation": relation.value if relation else None,
        "may_impose": may_impose,
        "penalties": penalties,
    }
    assert expected in [{k: a[k] for k in expected} for a in found], row
    assert all(a["basis"].startswith(("PP 94/2021 Ps", "PP 94/2021")) for a in found)


def _hierarchy(**rows: tuple[Official | None, Official | None]) -> HierarchyRow:
    [(kind, (one, two))] = rows.items()
    return HierarchyRow(P(kind), frozenset(A), one, two)


@pytest.mark.parametrize(
    ("subject", "row", "relation", "may_impose"),
    [
        (
            P.PELAKSANA,
            _hierarchy(PELAKSANA=(None, Official.PENGAWAS)),
            Rel.TWO_LEVELS_UP,
            ["RINGAN", "SEDANG"],
        ),
        (P.JF, _hierarchy(JF=(Official.PENGAWAS, None)), Rel.ONE_LEVEL_UP, ["RINGAN"]),
        (P.JF, _hierarchy(JF=(Official.JPT_PRATAMA, None)), Rel.ONE_LEVEL_UP, ["RINGAN", "SEDANG"]),
    ],
    ids=[
        "pengawas two levels down ringan+sedang",
        "pengawas over a JF ringan",
        "JPT pratama over a JF ringan+sedang",
    ],
)
def test_rows_the_default_structure_never_places_apply_once_an_administrator_corrects_the_hierarchy(
    subject: P, row: HierarchyRow, relation: Rel, may_impose: list[str]
) -> None:
    rules = dataclasses.replace(RULES, hierarchy=(row,))
    found = [a.record() for a in authorities(pns(subject, A.REGENCY_CITY), rules)]
    assert {
        "official": row.one_level_up.value if relation is Rel.ONE_LEVEL_UP else row.two_levels_up.value,  # type: ignore[union-attr]
        "relation": relation.value,
        "may_impose": may_impose,
    } in [{k: a[k] for k in ("official", "relation", "may_impose")} for a in found]


def test_case_b_sedang_for_a_provincial_kepala_bidang_is_decided_by_the_sekda_two_levels_up() -> None:
    pybm = deciding_official(pns(P.ADMINISTRATOR, A.PROVINCIAL), Category.DISIPLIN, Level.SEDANG, RULES)
    assert pybm is not None
    assert (pybm.official, pybm.relation, pybm.basis) == (
        Official.JPT_MADYA,
        Rel.TWO_LEVELS_UP,
        "PP 94/2021 Ps 20 b",
    )


def test_case_c_berat_for_a_regency_kabid_is_decided_by_the_bupati_as_ppk() -> None:
    pybm = deciding_official(pns(P.ADMINISTRATOR, A.REGENCY_CITY), Category.DISIPLIN, Level.BERAT, RULES)
    assert pybm is not None
    assert (pybm.official, pybm.relation) == (Official.PPK_KABUPATEN_KOTA, None)
    assert pybm.basis.startswith("PP 94/2021 Ps 18(3)(c)")


def test_a_ringan_finding_goes_to_the_nearest_superior_not_the_ppk() -> None:
    pybm = deciding_official(pns(P.ADMINISTRATOR, A.REGENCY_CITY), Category.DISIPLIN, Level.RINGAN, RULES)
    assert pybm is not None and (pybm.official, pybm.relation) == (Official.JPT_PRATAMA, Rel.ONE_LEVEL_UP)


def test_pppk_and_kode_etik_go_to_the_ppk_of_the_agency() -> None:
    pppk = Profile(EmployeeType.PPPK, None, A.PROVINCIAL)
    assert deciding_official(pppk, Category.DISIPLIN, Level.BERAT, RULES).official is Official.PPK_PROVINSI  # type: ignore[union-attr]
    ethics = deciding_official(pns(P.PELAKSANA, A.CENTRAL), Category.KODE_ETIK, None, RULES)
    assert (
        ethics is not None and ethics.official is Official.PPK_PUSAT and ethics.basis == "PP 42/2004 Ps 15(3)"
    )


def test_when_no_row_gives_the_power_none_is_named_ps_25() -> None:
    rules = dataclasses.replace(RULES, authority=())
    assert deciding_official(pns(P.ADMINISTRATOR, A.CENTRAL), Category.DISIPLIN, Level.BERAT, rules) is None
