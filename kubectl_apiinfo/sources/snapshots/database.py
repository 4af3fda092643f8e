"""The cache's database: a diskcache (SQLite) in the cache folder; the one module that knows its table layout.

Reads go straight to SQLite, read-only and without importing diskcache (it costs
more than a cached answer may); writes go through diskcache.  A database that
cannot be written (a full disk, a read-only one, a lock held too long) is left
as it is and still read, and a write that fails says so once and stores
nothing.  A corrupt one (not a database, or malformed, found on reading or on
writing) has its files moved aside (folder.py: one copy kept) and a new one is
started.  Values are codec's text; keys are plain strings.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Callable, Optional

from kubectl_apiinfo.errors import UserError, flag
from kubectl_apiinfo.sources.snapshots import folder
from kubectl_apiinfo.sources.snapshots.codec import DamagedValue, decode, encode, parse_json

CORRUPT = "corrupt"  # what trouble() says of a database that is damaged, not merely unwritable
_END = "\U0010ffff"  # above every key that starts with a prefix
_INLINE_UP_TO = 1 << 30  # diskcache's disk_min_file_size: values below it stay in the database


def _dir_quote(path: str) -> str:
    return path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")


class Database:
    def __init__(self, directory: str, warn: Callable[[str], None]):
        self.directory = directory
        self.warn = warn
        self._readers: dict[int, sqlite3.Connection] = {}  # one per thread, as sqlite3 requires
        self._writer = None  # diskcache.Cache, opened on the first write
        self.read_only = False  # True once nothing can be stored in this run; unwritable says why
        self.unwritable = ""
        self._as_is = False  # read as an immutable file: its folder cannot hold SQLite's shared-memory file
        self._reported: set[str] = set()
        self._lock = threading.Lock()  # refresh_many's threads share one writer
        self._writing: set[int] = set()  # threads inside write()
        self.opened_writer: Optional[Callable[[], None]] = None  # called once the writer is open (migration)
        try:
            folder.make(directory)
        except PermissionError:
            if not os.path.isdir(directory):
                raise UserError(f"cannot use the cache directory {directory} (permission denied); pass {flag('cache_dir')}") from None
        except OSError as e:
            raise UserError(f"cannot use the cache directory {directory} ({e.strerror}); pass {flag('cache_dir')}") from None

    def close(self) -> None:
        self._close_readers()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _close_readers(self) -> None:
        for con in self._readers.values():
            con.close()
        self._readers = {}

    def warn_once(self, key: str, message: str) -> None:
        if key not in self._reported:
            self._reported.add(key)
            self.warn(message)

    # --- reading: plain SQLite, read-only ---------------------------------

    def _connection(self) -> Optional[sqlite3.Connection]:
        con = self._readers.get(threading.get_ident())
        if con is None:
            path = os.path.join(self.directory, folder.DATABASE)
            if not os.path.exists(path):
                return None
            try:
                con = sqlite3.connect(
                    f"file:{_dir_quote(path)}?mode=ro{'&immutable=1' if self._as_is else ''}",
                    uri=True, isolation_level=None, timeout=10, check_same_thread=False,
                )
            except sqlite3.Error:
                return None
            con.text_factory = bytes  # a flipped byte in a key must not break every query
            self._readers[threading.get_ident()] = con
        return con

    def _rows(self, sql: str, args: tuple) -> list:
        while True:
            con = self._connection()
            if con is None:
                return []
            try:
                return con.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as e:
                if not self._read_failed(e):
                    return []

    def _read_failed(self, error: sqlite3.DatabaseError) -> bool:
        """Deal with a failed read; True when it is worth reading again."""
        trouble = self.trouble(error)
        if trouble == CORRUPT and not self._as_is:  # (read as is, a write under way could look like damage)
            self._corrupt(error)
        elif trouble in ("read-only", "disk full") and not self._as_is and not self._journal_pending():
            # SQLite cannot make its shared-memory file here; with no journal waiting, the file alone is the database.
            self._as_is = True
            self._close_readers()
            return True
        elif "no such table" not in str(error):  # (an empty file: a cache that was never written)
            # locked, or not readable by us: answer without it, as if it were empty
            self.warn_once("cannot read", f"cannot read the cache at {self.directory} ({error}); answering without it")
            self.close()
        return False

    def _journal_pending(self) -> bool:
        try:
            return os.path.getsize(os.path.join(self.directory, folder.DATABASE + "-wal")) > 0
        except OSError:
            return False

    def _value(self, mode: int, filename, value, parse: bool = True) -> object:
        if mode == 1 and value is not None:  # diskcache MODE_RAW: inline text
            return decode(value if isinstance(value, bytes) else str(value).encode("utf-8"), parse)
        if mode == 3 and filename:  # MODE_TEXT: a file beside the database
            name = filename.decode("utf-8", "replace") if isinstance(filename, bytes) else filename
            if os.path.isabs(name) or ".." in name.split("/"):
                raise DamagedValue("bad file name")
            try:
                with open(os.path.join(self.directory, name), "rb") as f:
                    return decode(f.read(), parse)
            except OSError as e:
                raise DamagedValue(f"value file unreadable: {e.strerror}") from None
        raise DamagedValue("not a JSON value")  # pickled or binary: never ours

    def read(self, key: str) -> object:
        """The value stored under key, None if absent; DamagedValue if it cannot be read back."""
        rows = self._rows("SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = 1", (key,))
        if not rows:
            return None
        return self._value(*rows[0])

    def read_range(self, prefix: str) -> list:
        """Every value under prefix, checked one by one but decoded in one pass (much faster for thousands)."""
        rows = self._rows(
            "SELECT mode, filename, value FROM Cache WHERE key >= ? AND key < ? AND raw = 1 ORDER BY key",
            (prefix, prefix + _END),
        )
        bodies = [self._value(m, f, v, parse=False) for m, f, v in rows]
        return parse_json(b"[" + b",".join(bodies) + b"]") if bodies else []

    def keys(self, prefix: str) -> list[str]:
        rows = self._rows("SELECT key FROM Cache WHERE key >= ? AND key < ? AND raw = 1", (prefix, prefix + _END))
        return [k.decode("utf-8", "replace") for (k,) in rows]

    def has(self, key: str) -> bool:
        return bool(self._rows("SELECT 1 FROM Cache WHERE key = ? AND raw = 1 LIMIT 1", (key,)))

    def has_old_format(self) -> bool:
        """Whether rows of the previous format (JSONDisk's compressed keys) are left."""
        return bool(self._rows("SELECT 1 FROM Cache WHERE typeof(key) = 'blob' LIMIT 1", ()))

    def begin(self) -> None:
        # One read transaction: head and groups come from the same generation, even while a refresh commits.
        con = self._connection()
        if con is not None:
            try:
                con.execute("BEGIN")
            except sqlite3.DatabaseError as e:
                if self.trouble(e) == CORRUPT:
                    self._corrupt(e)

    def end(self) -> None:
        con = self._readers.get(threading.get_ident())
        if con is not None and con.in_transaction:
            con.execute("COMMIT")

    # --- writing: through diskcache ---------------------------------------

    def writer(self):
        """The diskcache, opened on first use (and the previous format migrated); None once the cache is
        known not to be writable.  Raises what opening it raised: write() tells what that means."""
        if self._writer is None and not self.read_only:
            with self._lock:
                if self._writer is None and not self.read_only:
                    self._writer = self._open_writer()
            if self.opened_writer is not None:
                opened, self.opened_writer = self.opened_writer, None
                opened()
        return None if self.read_only else self._writer

    def _open_writer(self):
        import diskcache

        class TextDisk(diskcache.Disk):
            # Caches of the previous format recorded JSONDisk's compress_level.
            def __init__(self, directory, compress_level=0, **kwargs):
                super().__init__(directory, **kwargs)
                self.root = os.path.realpath(directory)

            def remove(self, file_path):
                # A row names the file its value lives in, and a damaged or planted row may name any path:
                # only a file inside the cache folder is removed, and no folder above it.
                full = os.path.realpath(os.path.join(self.root, file_path))
                if os.path.commonpath([self.root, full]) != self.root or full == self.root:
                    return
                try:
                    os.remove(full)
                except OSError:
                    pass

        folder.make_database(self.directory)
        # Every value inline (an OpenAPI document is a few MB, SQLite takes 1 GB): no row of ours names a file.
        return diskcache.Cache(self.directory, disk=TextDisk, disk_min_file_size=_INLINE_UP_TO, cull_limit=0)

    def write(self, doing: str, body: Callable[[], object], refuse: str = "", quiet: bool = False) -> bool:
        """Run body (puts and deletes through this writer) in one transaction: all of them or none.

        False when nothing was stored, or body returned False.  When the cache cannot be written (a full
        disk, a read-only cache) nothing is stored for the rest of the run and the first time says so in
        one warning ("could not <doing> ...") unless quiet, or a UserError ending in refuse when one is
        given.  A corrupt database is moved aside and body run again in a new one.  Inside another
        write() body only runs: the outer one's transaction holds it, and deals with what fails."""
        if threading.get_ident() in self._writing:
            return body() is not False
        for attempt in (0, 1):
            try:
                cache = self.writer()
                if cache is None:
                    break
                self._writing.add(threading.get_ident())
                try:
                    with cache.transact():
                        return body() is not False
                finally:
                    self._writing.discard(threading.get_ident())
            except Exception as e:  # noqa: BLE001 - trouble() sorts the disk's errors from everything else
                trouble = self.trouble(e)
                if trouble is None:
                    raise
                if trouble == CORRUPT and not attempt:
                    self._corrupt(e)
                    continue
                self.read_only, self.unwritable = True, trouble
                break
        if refuse:
            raise UserError(f"could not {doing} in {self.directory} ({self.unwritable}); {refuse}")
        if not quiet:
            self.warn_once("cannot store", f"could not {doing} in {self.directory} ({self.unwritable}); answering without caching it")
        return False

    def trouble(self, error: BaseException) -> Optional[str]:
        """What an error says of the database: CORRUPT, why it cannot be written now ("disk full",
        "read-only", else SQLite's words), or None for an error that is not the disk's."""
        import diskcache  # only asked after a failure, when the writer has imported it or reading found damage

        if not isinstance(error, (sqlite3.Error, OSError, diskcache.Timeout)):
            return None
        # The first failure is the one that tells: a ROLLBACK failing after it, or diskcache's Timeout, only follow it.
        while isinstance(error.__context__, (sqlite3.Error, OSError)):
            error = error.__context__
        name = getattr(error, "sqlite_errorname", "")  # Python 3.11 and later
        code = getattr(error, "errno", None)
        text = str(error)
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
            return CORRUPT
        if name == "SQLITE_FULL" or code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text:
            return "disk full"
        if name.startswith(("SQLITE_READONLY", "SQLITE_PERM")) or code in (errno.EROFS, errno.EACCES, errno.EPERM) \
                or "readonly" in text or not self._may_write():
            return "read-only"
        return text or type(error).__name__

    def _may_write(self) -> bool:
        db = os.path.join(self.directory, folder.DATABASE)
        return os.access(self.directory, os.W_OK) and (not os.path.exists(db) or os.access(db, os.W_OK))

    def _corrupt(self, error: Exception) -> None:
        """Keep the evidence aside (one copy, the newest) and start an empty cache."""
        self.close()
        try:
            aside = folder.move_aside(self.directory)
        except OSError as e:
            aside = os.path.join(self.directory, folder.ASIDE)
            raise UserError(
                f"the cache at {self.directory} is unreadable ({error}) and cannot be moved aside into {aside} ({e.strerror}); "
                f"pass {flag('cache_dir')}"
            ) from None
        self.warn(f"the cache at {self.directory} is unreadable ({error}); moved its database to {aside} and started a new one")

    def writer_keys(self, prefix: str) -> list[str]:
        """Keys under prefix, read through the writer's connection (inside its transaction)."""
        rows = self._writer._sql(
            "SELECT key FROM Cache WHERE key >= ? AND key < ? AND raw = 1", (prefix, prefix + _END)
        ).fetchall()
        return [k for (k,) in rows]

    def writer_read(self, key: str) -> object:
        """read(), through the writer's connection: what its open transaction sees."""
        rows = self._writer._sql("SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = 1", (key,)).fetchall()
        if not rows:
            return None
        mode, filename, value = rows[0]
        return self._value(mode, filename, value.encode("utf-8") if isinstance(value, str) else value)

    def set(self, key: str, value: object, doing: str, quiet: bool = False) -> bool:
        """Store a value (write(), for one); False if it was not stored."""
        text = encode(value)
        return self.write(doing, lambda: self._writer.set(key, text), quiet=quiet)

    def put_encoded(self, key: str, value: object) -> None:
        """set(), inside a write()."""
        self._writer.set(key, encode(value))

    def delete(self, key: str) -> None:
        """Inside a write()."""
        self._writer.delete(key)

    def drop_quietly(self, keys: list, prefixes: list) -> None:
        """Delete keys and every key under prefixes in one transaction; a row that cannot be dropped is
        reported again next time, nothing worse."""

        def drop() -> None:
            for key in [*keys, *(k for prefix in prefixes for k in self.writer_keys(prefix))]:
                self._writer.delete(key)

        self.write("drop a damaged snapshot", drop, quiet=True)

    def old_format_rows(self) -> list:
        """(key, the stored bytes) of every row of the previous format (JSONDisk's zlib-compressed keys and values)."""
        rows = self._writer._sql("SELECT key, mode, filename, value FROM Cache WHERE typeof(key) = 'blob'").fetchall()
        found = []
        for key, mode, filename, value in rows:
            if mode == 2 and filename:  # MODE_BINARY: a file
                try:
                    with open(os.path.join(self.directory, filename), "rb") as f:
                        value = f.read()
                except OSError:
                    value = None
            found.append((bytes(key), value))
        return found

    def delete_old_rows(self, keys: list) -> None:
        with self._writer.transact():
            for key in keys:
                self._writer.delete(key)
