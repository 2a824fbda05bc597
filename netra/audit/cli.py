"""``netra audit …``: the auditor's commands (registered by ``netra.cli``).

Each command reads the same Settings as the services, so it works against ``make run``.
Reports go to stdout, progress to stderr; an exit code of 0 means "nothing wrong".
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from shared.config import Settings


def _settings() -> Settings:
    return Settings.from_env()


@click.group()
def audit() -> None:
    """Prove the history was never altered, and that replaying it gives the same state."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="machine-readable report")
@click.option("--quiet", is_flag=True, help="no progress lines on stderr")
def verify(as_json: bool, quiet: bool) -> None:
    """Check both hash chains of every store, every store against its Kafka topic (from
    offset 0, byte for byte) and every causation id; exit 1 on any flaw."""
    from netra.audit.verify import render_json, verify_system

    report = verify_system(_settings(), progress=not quiet)
    click.echo(render_json(report) if as_json else report.text())
    sys.exit(0 if report.ok else 1)


@audit.command("replay")
@click.option("--json", "as_json", is_flag=True, help="machine-readable report")
@click.option("--quiet", is_flag=True, help="no progress lines on stderr")
def replay(as_json: bool, quiet: bool) -> None:
    """Rebuild every service's read models from Kafka alone in a scratch database, diff them
    with the live ones and re-run the deciders; exit 1 on any difference."""
    from netra.audit.replay import replay_system

    report = replay_system(_settings(), progress=not quiet)
    click.echo(json.dumps(report.as_json(), indent=2, default=str) if as_json else report.text())
    sys.exit(0 if report.ok else 1)


@audit.command("history")
@click.argument("case_id")
@click.option("--as-of", "as_of", help="an ISO 8601 instant with its offset: the case as known then")
@click.option("--valid-time", is_flag=True, help="cut --as-of by when things happened (occurred_at)")
@click.option("--json", "as_json", is_flag=True, help="machine-readable")
def history(case_id: str, as_of: str | None, valid_time: bool, as_json: bool) -> None:
    """One case's events from every service, in causal order, and its state."""
    from netra.audit.history import case_history, parse_instant

    try:
        instant = parse_instant(as_of) if as_of else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from exc
    found = case_history(_settings(), case_id, as_of=instant, time="valid" if valid_time else "record")
    if not found.events and not found.known:
        raise click.ClickException(f"no service has events of case {case_id}")
    click.echo(json.dumps(found.as_json(), indent=2, default=str) if as_json else found.text())


@audit.command("export")
@click.argument("case_id")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--with-personal-data", "clear", is_flag=True, help="also open every sealed field (needs --by, --reason)"
)
@click.option("--by", "by", help="with --with-personal-data: who exports it, recorded")
@click.option("--reason", help="with --with-personal-data: why (a court's request, ...), recorded")
def export(case_id: str, out: Path, clear: bool, by: str | None, reason: str | None) -> None:
    """Write CASE's events, the rule sets they applied and a manifest to a .tar.gz bundle.
    Personal data stays sealed unless --with-personal-data says who and why."""
    from netra.audit.bundle import Disclosure, export_case

    disclosure = None
    if clear:
        if not (by or "").strip() or not (reason or "").strip():
            raise click.UsageError("--with-personal-data needs --by and --reason: each opening is recorded")
        disclosure = Disclosure(str(by).strip(), str(reason).strip())
    elif by or reason:
        raise click.UsageError("--by and --reason go with --with-personal-data")
    manifest = export_case(_settings(), case_id, out, at=datetime.now().astimezone(), disclosure=disclosure)
    if not manifest["events"]:
        out.unlink(missing_ok=True)
        raise click.ClickException(f"no service has events of case {case_id}")
    click.echo(f"wrote {out}: {manifest['events']} events, rule sets {sorted(manifest['rule_sets'])}")
    if manifest["personal_data"]:
        click.echo(
            f"with {manifest['personal_data']['fields']} personal fields in clear: keep it as such", err=True
        )
    if manifest["missing_rule_sets"]:
        click.echo(f"rule sets not found in services/*/rules: {manifest['missing_rule_sets']}", err=True)


@audit.command("verify-bundle")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="machine-readable")
def verify_bundle_command(bundle: Path, as_json: bool) -> None:
    """Check an export bundle offline (no database, no Kafka); exit 1 on any flaw."""
    from netra.audit.bundle import verify_bundle

    result = verify_bundle(bundle)
    click.echo(json.dumps(result.as_json(), indent=2) if as_json else result.text())
    sys.exit(0 if result.ok else 1)
