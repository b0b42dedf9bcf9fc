"""Every verification attempt, failures included, kept in a SQLite database.

One row per artifact and attempt: the release, the file, the verdict, the cause, the recipe (as
JSON, with its evidence), the difference tree (as ``reprobuild diff --format json``'s
document), the published and rebuilt digests, when it ran and how long it took, and
reprobuild's version. Negative results are kept like positive ones: a history of failures is
what tells a fix from luck.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from packaging.utils import canonicalize_name

from reprobuild import __version__
from reprobuild._types import JSONValue
from reprobuild.compare.difference import Difference
from reprobuild.errors import UsageError
from reprobuild.present import DocumentError, load_json, render_json
from reprobuild.rebuild.document import recipe_document
from reprobuild.rebuild.verify import Verification

__all__ = [
    "DB_NAME",
    "ERROR",
    "INDEX",
    "LOCAL",
    "Attempt",
    "check_database",
    "count_attempts",
    "list_attempts",
    "record_failure",
    "record_verification",
]

#: The verdict of an attempt that failed before any artifact was judged (the index could not be
#: reached, the release does not exist): one row with no file name.
ERROR = "error"

#: Where an attempt's files came from: a release on the package index, or local files
#: (``verify --wheel FILE --sdist FILE``). Rows recorded before the origin was kept have none.
INDEX = "index"
LOCAL = "local"

#: The database's file name in the cache folder (``--db`` chooses another path).
DB_NAME = "results.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    filename TEXT NOT NULL,
    verdict TEXT NOT NULL,
    cause TEXT NOT NULL,
    categories TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    rebuilt_sha256 TEXT,
    override TEXT,
    recipe TEXT,
    started TEXT NOT NULL,
    seconds REAL NOT NULL,
    tool_version TEXT NOT NULL,
    origin TEXT,
    sandbox TEXT,
    difference TEXT
);
CREATE INDEX IF NOT EXISTS attempts_release ON attempts (name, version);
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One row: one artifact of one release, verified once."""

    id: int
    name: str
    version: str
    filename: str
    verdict: str
    cause: str
    categories: tuple[str, ...]
    sha256: str
    rebuilt_sha256: str | None
    override: str | None
    started: str
    seconds: float
    tool_version: str
    origin: str | None = None
    #: the sandbox the rebuild ran in (``bwrap``, ``landlock``, ``none``); None when no build
    #: ran, or in rows recorded before the sandbox was kept
    sandbox: str | None = None
    #: the recipe's JSON document (fields, override, evidence); only read with ``details``
    recipe: Mapping[str, JSONValue] | None = None
    #: the difference tree of an equivalent or different file; only read with ``details``, and
    #: None in rows recorded before it was kept
    difference: Difference | None = None


def _connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path)
        connection.executescript(_SCHEMA)
        _migrate(connection)
    except (OSError, sqlite3.Error) as exc:
        reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
        raise UsageError(
            f"cannot open the results database: {reason.lower()}",
            path=str(path),
            hint="give a writable path with --db",
        ) from exc
    return connection


def _migrate(connection: sqlite3.Connection) -> None:
    """Bring a database made by an earlier reprobuild up to this schema: the ``origin``,
    ``sandbox`` and ``difference`` columns (NULL in the rows already there: those were not
    kept)."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(attempts)")}
    for column in ("origin", "sandbox", "difference"):
        if column not in columns:
            with connection:
                connection.execute(f"ALTER TABLE attempts ADD COLUMN {column} TEXT")


def check_database(path: Path) -> None:
    """Open (or create) the database at ``path`` now, so that a path it cannot be at is refused
    before any work (:class:`~reprobuild.errors.UsageError`)."""
    with closing(_connect(path)):
        pass


def count_attempts(path: Path) -> int:
    """How many attempts ``path`` holds, whatever they are (0 when there is no database)."""
    if not path.is_file():
        return 0
    with closing(_connect(path)) as connection:
        (count,) = connection.execute("SELECT COUNT(*) FROM attempts").fetchone()
    return int(count)


def record_verification(
    path: Path, verification: Verification, *, started: datetime, origin: str = INDEX
) -> None:
    """Add one row per artifact of ``verification`` (one transaction: all rows or none);
    ``origin`` is :data:`INDEX` or :data:`LOCAL`."""
    rows = [
        (
            verification.name,
            verification.version,
            r.filename,
            r.verdict.value,
            r.cause,
            json.dumps(list(r.categories)),
            r.sha256,
            r.rebuilt_sha256,
            r.recipe.override if r.recipe else None,
            json.dumps(recipe_document(r.recipe)) if r.recipe else None,
            started.isoformat(),
            r.seconds,
            __version__,
            origin,
            json.dumps(dict(verification.sandbox)) if r.recipe and verification.sandbox else None,
            json.dumps(render_json(r.difference)) if r.difference else None,
        )
        for r in verification.results
    ]
    with closing(_connect(path)) as connection, connection:
        connection.executemany(
            "INSERT INTO attempts (name, version, filename, verdict, cause, categories, sha256, "
            "rebuilt_sha256, override, recipe, started, seconds, tool_version, origin, sandbox, "
            "difference) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def record_failure(
    path: Path,
    *,
    name: str,
    version: str,
    cause: str,
    started: datetime,
    seconds: float,
    origin: str = INDEX,
) -> None:
    """Add the row of an attempt that failed before any artifact was judged (verdict
    :data:`ERROR`, no file name)."""
    with closing(_connect(path)) as connection, connection:
        connection.execute(
            "INSERT INTO attempts (name, version, filename, verdict, cause, categories, sha256, "
            "rebuilt_sha256, override, recipe, started, seconds, tool_version, origin) "
            "VALUES (?, ?, '', ?, ?, '[]', '', NULL, NULL, NULL, ?, ?, ?, ?)",
            (
                name,
                version,
                ERROR,
                cause,
                started.isoformat(),
                round(seconds, 3),
                __version__,
                origin,
            ),
        )


def list_attempts(
    path: Path,
    *,
    name: str | None = None,
    version: str | None = None,
    verdicts: Sequence[str] = (),
    latest: bool = False,
    details: bool = False,
) -> Iterator[Attempt]:
    """The attempts in ``path``, oldest first, filtered; ``latest`` keeps each file's last.
    With ``details`` each attempt carries its recipe and difference tree too (a stored one
    this version cannot read is left out: None).

    ``name`` matches as package names do (``IPython``, ``ipython`` and ``i_python`` alike are
    the same under PEP 503 normalization), whatever spelling the attempt was recorded with.
    """
    if not path.is_file():
        return
    wanted = canonicalize_name(name) if name else None
    where, params = [], []
    if version:
        where.append("version = ?")
        params.append(version)
    if verdicts:
        where.append(f"verdict IN ({', '.join('?' for _ in verdicts)})")
        params.extend(verdicts)
    if latest:
        where.append("id IN (SELECT MAX(id) FROM attempts GROUP BY name, version, filename)")
    query = (
        "SELECT id, name, version, filename, verdict, cause, categories, sha256, "
        "rebuilt_sha256, override, started, seconds, tool_version, origin, sandbox"
        + (", recipe, difference" if details else "")
        + " FROM attempts"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY id"
    )
    with closing(_connect(path)) as connection:
        for row in connection.execute(query, params):
            if wanted is not None and canonicalize_name(row[1]) != wanted:
                continue
            yield Attempt(
                id=row[0],
                name=row[1],
                version=row[2],
                filename=row[3],
                verdict=row[4],
                cause=row[5],
                categories=tuple(json.loads(row[6])),
                sha256=row[7],
                rebuilt_sha256=row[8],
                override=row[9],
                started=row[10],
                seconds=row[11],
                tool_version=row[12],
                origin=row[13],
                sandbox=_sandbox_kind(row[14]),
                recipe=_recipe(row[15]) if details else None,
                difference=_difference(row[16]) if details else None,
            )


def _sandbox_kind(text: str | None) -> str | None:
    """The kind of sandbox a row's JSON record names (None without one)."""
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    kind = record.get("kind") if isinstance(record, dict) else None
    return kind if isinstance(kind, str) else None


def _recipe(text: str | None) -> Mapping[str, JSONValue] | None:
    """A row's recipe document (None without one, or when it is not a JSON object)."""
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _difference(text: str | None) -> Difference | None:
    """A row's difference tree (None without one, or when this version cannot read it)."""
    if not text:
        return None
    try:
        return load_json(json.loads(text))
    except (ValueError, DocumentError):
        return None
