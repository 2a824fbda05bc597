"""PostgreSQL quotes the offending value in its error messages; the logs, the parked reasons and
the set-aside reasons name the error by class, SQLSTATE and statement instead."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from shared.config import Settings
from shared.logs import configure_logging, withheld

SECRET = "whsec-do-not-log-me"


def _failed_statement(engine: sa.Engine) -> sa.exc.DBAPIError:
    with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as failed:
        conn.execute(sa.text("SELECT CAST(:secret AS integer)"), {"secret": SECRET})
    assert SECRET in str(failed.value.orig)  # what the server said: the reason for all this
    return failed.value


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_logged_database_error_names_its_sqlstate_not_its_values(
    engine: sa.Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str], log_format: str
) -> None:
    configure_logging(Settings(home=tmp_path, log_format=log_format))
    error = _failed_statement(engine)
    log = logging.getLogger("netra.test")
    log.error("as an argument: %s", error)
    log.error("as its driver error: %s", error.orig)
    try:
        raise RuntimeError("while handling") from error
    except RuntimeError:
        log.exception("as a traceback")
    printed = capsys.readouterr().err
    assert SECRET not in printed
    assert printed.count("SQLSTATE 22P02") == 2 and "CAST(%(secret)s AS integer)" in printed
    assert "as a traceback" in printed and "Traceback (most recent call last)" in printed


def test_withheld_keeps_what_a_connection_failure_says(engine: sa.Engine) -> None:
    error = _failed_statement(engine)
    assert withheld(error).startswith("InvalidTextRepresentation (SQLSTATE 22P02)")
    assert withheld(ValueError("plain")) == "plain"
    refused = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(sa.exc.OperationalError) as down:
        refused.connect()
    assert "127.0.0.1" in withheld(down.value) or "refused" in withheld(down.value)
