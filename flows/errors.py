"""Errors a data team can act on: every command ends in one line (what, where, what to do),
exit code 2 for a usage or configuration error and 1 for anything else; ``--debug`` (or
``MINSHENG_DEBUG=1``) shows the traceback instead."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
import typer
from typer.core import TyperGroup

#: Errors of use or configuration: the command line, a config file, a mapping, a registry.
USAGE_ERRORS: tuple[type[BaseException], ...] = (KeyError, ValueError, FileNotFoundError, FileExistsError,
                                                 PermissionError, LookupError)


def one_line(exc: BaseException) -> str:
    """The exception as one line: its message with the lines of a validation error folded."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()[:3]]
        text = f"{exc.title}: " + "; ".join(parts)
    else:
        text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    text = " ".join(text.split()) or type(exc).__name__
    return text if isinstance(exc, USAGE_ERRORS) else f"{type(exc).__name__}: {text}"


def debugging() -> bool:
    return os.environ.get("MINSHENG_DEBUG", "") not in ("", "0")


class OneLineErrors(TyperGroup):
    """A command group whose commands fail in one line (see the module docstring)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, typer.Exit, typer.Abort,
                KeyboardInterrupt):
            raise
        except Exception as exc:
            if debugging():
                raise
            click.echo(f"error: {one_line(exc)} (--debug shows where)", err=True)
            sys.stderr.flush()
            raise typer.Exit(2 if isinstance(exc, USAGE_ERRORS) else 1) from None
