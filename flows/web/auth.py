"""Accounts, passwords, the session secret and CSRF tokens of the workbench.

Accounts are in configuration (``web.users``) with argon2 hashes; sessions are signed cookies
(starlette's ``SessionMiddleware``, itsdangerous) whose secret is ``web.secret_key`` or a key
file made on first start under ``<data_dir>/private/``. Every POST form carries the session's
CSRF token (compared in constant time)."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from minsheng.settings import Settings, WebUser

__all__ = ["authenticate", "csrf_token", "csrf_valid", "hash_password", "secret_key"]

_HASHER = PasswordHasher()
# verified when the name is unknown, so that a wrong name takes as long as a wrong password
_DUMMY = _HASHER.hash("not a password of anyone")


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("a workbench password has at least 8 characters")
    return _HASHER.hash(password)


def authenticate(users: list[WebUser], name: str, password: str) -> WebUser | None:
    """The account ``name`` if ``password`` is its password, else None."""
    user = next((u for u in users if hmac.compare_digest(u.name, name)), None)
    stored = user.password_hash.get_secret_value() if user else _DUMMY
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def secret_key(settings: Settings) -> str:
    """The session-signing secret: ``web.secret_key``, else the key file (made, readable by
    its owner only, on first use)."""
    web = settings.web
    if web.secret_key is not None:
        return web.secret_key.get_secret_value()
    path = Path(web.secret_key_file or Path(settings.data_dir) / "private" / "web-secret.key")
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key + "\n")
    return key


def csrf_token(session: dict) -> str:
    """The session's CSRF token (made on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_valid(session: dict, token: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and token) and hmac.compare_digest(str(expected), str(token))
