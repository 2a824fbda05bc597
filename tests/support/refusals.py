"""What "a refusal cites the law" means, for the check every test runs (tests/conftest.py)."""

from __future__ import annotations

import re

from shared.refusals import NETRA_RULE

# An article of law (PP 94/2021 Ps 24, UU 7/2017 Ps 454, Perban BKN 1/2023, SKB ...), a row
# of docs/law.md, or Netra's own rule said to be one.
_CITATION = re.compile(
    r"\b(PP|UU|Perban|Perpres|Permen|Perbawaslu|SKB)\b.*\d|\bPs\.? ?\d|docs/law\.md §\d|"
    + re.escape(NETRA_RULE)
)


def cites_the_law(rule: str) -> bool:
    """Whether ``rule`` names the article it encodes (or says it is Netra's own)."""
    return bool(rule) and bool(_CITATION.search(rule))
