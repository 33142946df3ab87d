"""The `regime` command: one click group, one module per subcommand."""

from __future__ import annotations

import click

from . import (
    batch,
    check,
    demo,
    dev_token,
    diff,
    docs,
    evaluate,
    explain,
    facts,
    impact,
    plan,
    serve,
    sql,
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
cli.add_command(batch.command)
cli.add_command(sql.command)
cli.add_command(facts.command)
cli.add_command(serve.command)
cli.add_command(dev_token.command)
cli.add_command(timeline.command)
cli.add_command(upcoming.command)
cli.add_command(impact.command)


def main() -> None:
    """The `regime` command: output that cannot be written is a clear error, not a traceback."""
    import errno
    import sys

    try:
        code = cli(prog_name="regime", standalone_mode=False)
        sys.stdout.flush()
        if isinstance(code, int):
            sys.exit(code)
    except click.exceptions.Abort:
        _say("error: aborted")
        sys.exit(1)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except UnicodeEncodeError as e:
        encoding = sys.stdout.encoding or "this"
        _say(
            f"error: the terminal's encoding ({encoding}) cannot show `{e.object[e.start : e.end]}`"
            "\n  hint: use a UTF-8 terminal, or set PYTHONIOENCODING=utf-8"
        )
        sys.exit(2)
    except OSError as e:
        if e.errno == errno.EPIPE:
            sys.exit(0)  # the reader went away (e.g. `| head`): nothing to report
        where = "the output" if e.errno == errno.ENOSPC else getattr(e, "filename", None) or "it"
        _say(f"error: cannot write {where}: {e.strerror or e}")
        sys.exit(2)


def _say(text: str) -> None:
    """A last message on stderr, even when stdout is what failed."""
    import sys

    try:
        sys.stderr.write(text.encode("ascii", "backslashreplace").decode("ascii") + "\n")
        sys.stderr.flush()
    except OSError:
        pass
