"""Accounts, passwords, the session secret and CSRF tokens of the workbench.

Accounts are in configuration (``web.users``) with argon2 hashes; sessions are signed cookies
(starlette's ``SessionMiddleware``, itsdangerous) whose secret is ``web.secret_key`` or a key
file made on first start under ``<data_dir>/private/``. Every POST form carries the session's
CSRF token (compared in constant time). Repeated wrong passwords for one name lock that name
out for a while (:class:`LoginThrottle`), so that a password cannot be guessed at the speed of
the server."""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from minsheng.settings import Settings, WebUser

__all__ = ["LoginThrottle", "authenticate", "csrf_token", "csrf_valid", "hash_password", "secret_key"]

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


class LoginThrottle:
    """Wrong passwords per typed name: after ``failures`` in a row, that name is locked for
    ``lockout_seconds`` (a right password in that time is refused too, so guessing gains nothing).
    Kept in memory: a restart forgets it, which only gives an attacker one more round. Keyed by
    the name typed, known or not, so that a lockout does not tell which names exist.

    Bounded, so that a flood of made-up names cannot grow it without end: a run of failures
    is forgotten ``lockout_seconds`` after its last one, expired locks go, and past
    ``max_names`` counters the least recently failed one is dropped (a lock is never dropped
    before it ends: pushing one out would take ``max_names`` requests and buy nothing)."""

    def __init__(self, failures: int, lockout_seconds: float, clock: Callable[[], float] = time.monotonic,
                 max_names: int = 10_000) -> None:
        self.failures = failures
        self.lockout_seconds = lockout_seconds
        self.max_names = max_names
        self._clock = clock
        self._lock = threading.Lock()
        self._failed: OrderedDict[str, tuple[int, float]] = OrderedDict()  # name → (count, last failure)
        self._until: dict[str, float] = {}

    def __len__(self) -> int:
        """Names held (counters and locks): what the memory grows with."""
        with self._lock:
            return len(self._failed) + len(self._until)

    def retry_after(self, name: str) -> float:
        """Seconds until ``name`` may try again; 0 when it may now."""
        with self._lock:
            until = self._until.get(name)
            if until is None:
                return 0.0
            left = until - self._clock()
            if left <= 0:
                del self._until[name]
                return 0.0
            return left

    def failed(self, name: str) -> None:
        with self._lock:
            now = self._clock()
            self._forget(now)
            count = self._failed.pop(name, (0, now))[0] + 1
            if count >= self.failures:
                self._until[name] = now + self.lockout_seconds
            else:
                self._failed[name] = (count, now)
                while len(self._failed) > self.max_names:
                    self._failed.popitem(last=False)

    def _forget(self, now: float) -> None:
        """Drop runs of failures older than the lockout and locks that have ended. The
        counters are in order of last failure, so only the stale front is looked at."""
        while self._failed:
            name, (_, last) = next(iter(self._failed.items()))
            if now - last < self.lockout_seconds:
                break
            del self._failed[name]
        if len(self._until) > self.max_names:
            for name in [n for n, until in self._until.items() if until <= now]:
                del self._until[name]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failed.pop(name, None)
