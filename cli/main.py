"""The `regime` command: one click group, one module per subcommand."""

from __future__ import annotations

import click

from . import (
    check,
    demo,
    diff,
    docs,
    evaluate,
    explain,
    facts,
    impact,
    plan,
    test,
    timeline,
    upcoming,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="regime-policy", prog_name="regime")
def cli() -> None:
    """Policy as code for prison and probation policy: check packs, run their worked
    examples, evaluate facts and explain decisions.

    \b
    Examples:
      regime check policies/
      regime test policies/
      regime eval keywork_edm --facts examples/prisoners/a2041kw_open_acct.yaml --as-of 2020-07-01
      regime explain keywork_edm is_priority --facts examples/prisoners/a2041kw_open_acct.yaml
      regime plan omu_edm --stage 3 --format mermaid
    """


cli.add_command(check.command)
cli.add_command(test.command)
cli.add_command(evaluate.command)
cli.add_command(explain.command)
cli.add_command(plan.command)
cli.add_command(demo.command)
cli.add_command(docs.command)
cli.add_command(diff.command)
cli.add_command(facts.command)
cli.add_command(timeline.command)
cli.add_command(upcoming.command)
cli.add_command(impact.command)


def main() -> None:
    cli(prog_name="regime")
