"""``minsheng web``: the planners' workbench (``flows.web``), and the helper that hashes a
password for its accounts (``web.users`` in configuration)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

web_app = typer.Typer(help="The planners' workbench: a web app over the planners' snapshot.",
                      invoke_without_command=True, add_completion=False)


@web_app.callback()
def web(
    ctx: typer.Context,
    host: Annotated[Optional[str], typer.Option(help="address to listen on (default: web.host, 127.0.0.1)")] = None,
    port: Annotated[Optional[int], typer.Option(help="port (default: web.port, 8000)")] = None,
    db: Annotated[Optional[Path], typer.Option("--db", help="warehouse file")] = None,
) -> None:
    """Serve the workbench (localhost by default; README: behind a reverse proxy)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from flows.context import RunContext
    from flows.web import create_app

    run = RunContext.load(db)
    s = run.settings
    if not s.web.users:
        raise ValueError("no workbench accounts: add web.users to the config folder's base.yaml "
                         "(password_hash from `minsheng web hash-password`)")
    if not run.warehouse.exists() and not run.warehouse.snapshot_path.exists():
        raise FileNotFoundError(f"no warehouse at {s.db}: run `minsheng demo` first, or give --db")
    app = create_app(s, run.warehouse)
    typer.echo(f"minsheng workbench on http://{host or s.web.host}:{port or s.web.port}/ (Ctrl-C stops it)", err=True)
    uvicorn.run(app, host=host or s.web.host, port=port or s.web.port, log_level="warning",
                proxy_headers=True, forwarded_allow_ips="127.0.0.1", server_header=False)


@web_app.command("hash-password")
def hash_password(
    password: Annotated[Optional[str], typer.Option(help="the password (default: asked, not echoed)")] = None,
) -> None:
    """Print the argon2 hash of a password, for an account's password_hash in web.users."""
    from flows.web.auth import hash_password as _hash

    password = password or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    typer.echo(_hash(password))  # a short password: ValueError, one line, exit 2
