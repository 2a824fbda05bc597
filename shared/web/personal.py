"""Personal fields in an answer: a sealed value (shared.keyring) is opened only for the roles
a view names, and each opening is recorded in the key store as a use of the data subject's
key by the caller. Everyone else sees it sealed; an erased one reads as erased."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from shared.auth import current_identity
from shared.keyring import ErasedField, is_sealed
from shared.web.runtime import runtime


def shown(value: Any, *, readers: Collection[str], purpose: str) -> Any:
    """``value`` as the caller may see it: opened when sealed and the caller's role is among
    ``readers``, ``{"erased": true, ...}`` once its key is erased, otherwise as it is."""
    if not is_sealed(value):
        return value
    caller = current_identity()
    if caller.role not in readers:
        return value
    opened = runtime().keys.open(value, purpose=purpose, actor=caller.id)
    return opened.as_dict() if isinstance(opened, ErasedField) else opened
