"""The `regime` command: one click group, one module per subcommand."""

from __future__ import annotations

import errno
import importlib
from typing import Any

import click

# Each subcommand's module is imported only when that subcommand runs (or help lists them all):
# a command then pays only for the libraries it uses.
SUBCOMMANDS = {
    "check": "check",
    "test": "test",
    "eval": "evaluate",
    "explain": "explain",
    "plan": "plan",
    "demo": "demo",
    "docs": "docs",
    "diff": "diff",
    "batch": "batch",
    "sql": "sql",
    "facts": "facts",
    "serve": "serve",
    "dev-token": "dev_token",
    "timeline": "timeline",
    "upcoming": "upcoming",
    "impact": "impact",
}


class _LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in SUBCOMMANDS and cmd_name not in self.commands:
            module = importlib.import_module(f"cli.{SUBCOMMANDS[cmd_name]}")
            self.add_command(module.command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            # suggest among every subcommand, not only those imported so far
            raise click.exceptions.NoSuchCommand(name, possibilities=list(SUBCOMMANDS), ctx=ctx)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        # click turns a write to a reader that went away into exit code 1, as if problems were
        # found; the reader stopping (`| head`) is not a problem: exit 0, as `main` does
        try:
            return super().invoke(ctx)
        except OSError as e:
            if e.errno != errno.EPIPE:
                raise
            _discard_stdout()
            raise click.exceptions.Exit(0) from None


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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


def main() -> None:
    """The `regime` command: output that cannot be written is a clear error, not a traceback."""
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
            _discard_stdout()
            sys.exit(0)  # the reader went away (e.g. `| head`): nothing to report
        where = "the output" if e.errno == errno.ENOSPC else getattr(e, "filename", None) or "it"
        _say(f"error: cannot write {where}: {e.strerror or e}")
        sys.exit(2)


def _discard_stdout() -> None:
    """Point the process's standard output at the null device once its reader has gone, so
    what is still buffered is dropped at exit instead of failing again there."""
    import os
    import sys

    out = sys.stdout
    if out is not sys.__stdout__ or out is None:  # a stream put in its place (a test's)
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, out.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


def _say(text: str) -> None:
    """A last message on stderr, even when stdout is what failed."""
    import sys

    try:
        sys.stderr.write(text.encode("ascii", "backslashreplace").decode("ascii") + "\n")
        sys.stderr.flush()
    except OSError:
        pass
