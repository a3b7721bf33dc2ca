"""Residents' contacts (callers' numbers, WeChat openids), in a DuckDB file of their own.

The analytical warehouse and its snapshot hold no personal data. The contacts a channel reads
go to this file, beside the warehouse in a folder only its owner may enter
(``private/<warehouse name>.pii.duckdb``, the file itself ``0600``). Two things open it:

- the loader, while it writes one input file's contacts (:meth:`ContactsStore.replace`);
- the call-back command (``minsheng contacts``, :meth:`ContactsStore.read`), which logs every
  read — the OS user, the time, the records asked for, the reason — to ``audit_log`` in the
  same file and transaction. Values are never logged.

``minsheng check`` opens it read-only to count duplicate keys; it reads no values.

With a key (``privacy.contacts_key`` from ``MINSHENG_PRIVACY__CONTACTS_KEY``, or
``privacy.contacts_key_file``) the file is encrypted by DuckDB's database encryption
(AES-GCM, ``ATTACH … (ENCRYPTION_KEY …)``). DuckDB 2.0 reads encrypted files with its built-in
crypto but writes them only with OpenSSL, which its ``httpfs`` extension brings: installed once
where the extension repository is reachable, it is loaded from disk, never downloaded at run time.

A transaction in DuckDB writes one attached database only, so the loader cannot commit the
warehouse and the contacts together. It commits the contacts first and the warehouse second,
and both writes replace by record id: a crash between the two leaves contacts for records the
warehouse does not have yet, and the re-run, which finds those records still new, replaces
them. Nothing is lost and nothing is kept twice.
"""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.sql import transaction

_HERE = Path(str(resources.files("warehouse.contacts")))
_KEY_HINT = "set MINSHENG_PRIVACY__CONTACTS_KEY or the privacy.contacts_key_file setting"
CONTACT_ROWS = pa.schema([("record_id", pa.string()), ("field", pa.string()), ("value", pa.string())])


class ContactsError(RuntimeError):
    """The contacts file cannot be opened or read as asked; the message is one line."""


class ContactsKeyMissing(ContactsError):
    """The contacts file is encrypted and no key was given."""


def os_user() -> str:
    """The operating-system user running this process (not an environment variable)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return getpass.getuser()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class ContactsStore:
    """The contacts file of one warehouse, and its key (None: not encrypted)."""

    path: Path
    key: str | None = field(default=None, repr=False)
    wait_seconds: float = 30.0

    # DuckDB writes encrypted files with OpenSSL only (from httpfs); tests that cannot install
    # httpfs replace this statement (see tests/test_contacts.py)
    write_crypto_sql = "load httpfs"

    @staticmethod
    def default_path(db: Path) -> Path:
        db = Path(db)
        return db.parent / "private" / f"{db.stem}.pii.duckdb"

    @classmethod
    def beside(cls, db: Path, key: str | None = None) -> ContactsStore:
        return cls(cls.default_path(db), key)

    @classmethod
    def from_settings(cls, settings: Any) -> ContactsStore:
        p = settings.privacy
        key = p.contacts_key.get_secret_value() if p.contacts_key is not None else None
        if key is None and p.contacts_key_file is not None:
            try:
                key = Path(p.contacts_key_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ContactsError(f"cannot read the contacts key file {p.contacts_key_file}: "
                                    f"{exc.strerror}") from None
            if not key:
                raise ContactsError(f"the contacts key file {p.contacts_key_file} is empty")
        return cls(Path(p.contacts_db) if p.contacts_db else cls.default_path(settings.db), key or None)

    def exists(self) -> bool:
        return self.path.exists()

    # --- opening -------------------------------------------------------------------------

    def _make_folder(self) -> None:
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        # the WAL and temporary files DuckDB writes beside the file take the umask's mode:
        # the folder is what keeps them private
        if folder.stat().st_mode & 0o077:
            folder.chmod(0o700)

    @contextmanager
    def connect(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection of its own with the file attached as ``pii`` (and in use)."""
        if not write and not self.exists():
            raise ContactsError(f"no contacts file at {self.path}: nothing has been ingested yet")
        if write:
            self._make_folder()
        created = not self.exists()
        con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                                 "autoload_known_extensions": False})
        try:
            if self.key and write:
                try:
                    con.execute(self.write_crypto_sql)
                except duckdb.Error:
                    raise ContactsError(
                        "writing the encrypted contacts file needs DuckDB's httpfs extension "
                        "(OpenSSL): install it once where the extension repository is reachable "
                        "(python -c \"import duckdb; duckdb.sql('install httpfs')\")") from None
            self._attach(con, write)
            if created and self.path.exists():
                self.path.chmod(0o600)
            con.execute("use pii")
            if write:
                con.execute((_HERE / "schema.sql").read_text(encoding="utf-8"))
            yield con
        finally:
            con.close()

    def _attach(self, con: duckdb.DuckDBPyConnection, write: bool) -> None:
        options = [] if write else ["read_only"]
        if self.key:
            options.append(f"encryption_key {_quote(self.key)}")
        sql = f"attach {_quote(str(self.path))} as pii" + (f" ({', '.join(options)})" if options else "")
        deadline, delay = time.monotonic() + self.wait_seconds, 0.05
        while True:
            try:
                con.execute(sql)
                break
            except duckdb.Error as exc:
                text = str(exc)
                if "without a key" in text or ("encrypted database" in text.lower() and not self.key):
                    raise ContactsKeyMissing(f"the contacts file {self.path} is encrypted and no key "
                                             f"was given: {_KEY_HINT}") from None
                if "wrong encryption key" in text.lower():
                    raise ContactsError(f"the contacts key does not open {self.path}: check "
                                        f"the key ({_KEY_HINT})") from None
                if "lock" in text.lower() and time.monotonic() + delay < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
                    continue
                raise ContactsError(f"cannot open the contacts file {self.path}: "
                                    f"{text.splitlines()[0]}") from None
        if self.key:
            encrypted = con.execute("select encrypted from duckdb_databases() where database_name = 'pii'"
                                    ).fetchall()[0][0]
            if not encrypted:
                raise ContactsError(f"a contacts key is set but {self.path} is not encrypted: "
                                    "run `minsheng contacts --encrypt` once")

    # --- the loader's side ---------------------------------------------------------------

    def replace(self, record_ids: pa.Array | Sequence[str], rows: pa.Table | None) -> None:
        """Make ``rows`` the contacts of ``record_ids``, in one transaction: their old contacts
        go (a superseded record keeps no stale number), the new ones come in."""
        ids = pa.table({"record_id": pa.array(record_ids, pa.string())})
        if ids.num_rows == 0:
            return
        rows = rows if rows is not None else CONTACT_ROWS.empty_table()
        with self.connect(write=True) as con:
            con.register("_ids", ids)
            con.register("_rows", rows)
            with transaction(con):
                con.execute("delete from contacts where record_id in (select record_id from _ids)")
                con.execute("insert into contacts select record_id, field, value, now()::timestamp "
                            "from _rows where value <> ''")

    # --- the call-back side --------------------------------------------------------------

    def read(self, record_ids: Sequence[str], *, reason: str, command: str, selector: str,
             user: str | None = None) -> list[tuple[str, str, str]]:
        """The contacts of ``record_ids`` (record, field, value), logged in ``audit_log`` in the
        same transaction: if the log cannot be written, nothing is shown."""
        reason = " ".join(reason.split())
        if len(reason) < 4:
            raise ContactsError("say why you read these contacts: --reason TEXT (it is logged "
                                "with your user name)")
        if not self.exists():
            raise ContactsError(f"no contacts file at {self.path}: nothing has been ingested yet")
        ids = sorted(set(record_ids))
        with self.connect(write=True) as con, transaction(con):
            rows = con.execute("select record_id, field, value from contacts "
                               "where record_id in (select unnest($ids::varchar[])) order by all",
                               {"ids": ids}).fetchall()
            con.execute("insert into audit_log values (now()::timestamp, $user, $command, $selector, "
                        "$reason, $records::varchar[], $fields)",
                        {"user": user or os_user(), "command": command, "selector": selector,
                         "reason": reason, "records": ids, "fields": len(rows)})
        return rows

    def audit(self, limit: int = 50) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The latest reads, newest first (the log holds no values)."""
        with self.connect(write=False) as con:
            cur = con.execute("select read_at, os_user, command, selector, reason, len(records) as records, "
                              "fields from audit_log order by read_at desc limit $n", {"n": limit})
            return [d[0] for d in cur.description], cur.fetchall()

    def checks(self) -> dict[str, int]:
        """The contacts' data checks (``contacts/checks/``), reading keys only."""
        paths = sorted((_HERE / "checks").glob("*.sql"))
        if not self.exists():
            return {f"contacts.{p.stem}": 0 for p in paths}
        with self.connect(write=False) as con:
            return {f"contacts.{p.stem}": con.execute(
                f"select count(*) from ({p.read_text(encoding='utf-8')})").fetchall()[0][0]
                for p in paths}

    def encrypt(self) -> None:
        """Rewrite a plain contacts file encrypted with the key (once, when encryption is
        turned on); the plain file is replaced."""
        if not self.key:
            raise ContactsError(f"no contacts key to encrypt with: {_KEY_HINT}")
        if not self.exists():
            raise ContactsError(f"no contacts file at {self.path} yet: it is created encrypted")
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.encrypting")
        con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                                 "autoload_known_extensions": False})
        try:
            try:
                con.execute(self.write_crypto_sql)
            except duckdb.Error:
                raise ContactsError("encrypting needs DuckDB's httpfs extension (OpenSSL): install "
                                    "it once where the extension repository is reachable") from None
            con.execute(f"attach {_quote(str(self.path))} as plain (read_only)")
            if con.execute("select encrypted from duckdb_databases() where database_name = 'plain'"
                           ).fetchall()[0][0]:
                raise ContactsError(f"{self.path} is already encrypted")
            con.execute(f"attach {_quote(str(tmp))} as enc (encryption_key {_quote(self.key)})")
            tmp.chmod(0o600)
            con.execute("copy from database plain to enc")
            con.execute("detach enc")
            con.execute("detach plain")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            con.close()
        os.replace(tmp, self.path)
        Path(f"{tmp}.wal").unlink(missing_ok=True)


def callback_records(wh: Any, week: str, service: str) -> dict[str, tuple[str, str]]:
    """The records matched to ``service`` in ``week`` (record id → community, category), read
    from the planners' snapshot (``wh.planner()``: no contact value is in it)."""
    sql = (_HERE / "callback_list.sql").read_text(encoding="utf-8")
    with wh.planner() as con:
        rows = con.execute(sql, {"week": week, "service": service}).fetchall()
    if not rows:
        raise ContactsError(f"no demand item of {week} was matched to service {service!r}: see "
                            f"`minsheng query utilization -p week={week}` for the services")
    return {r[0]: (r[1], r[2]) for r in rows}
