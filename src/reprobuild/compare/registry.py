"""The ordered registry of comparators: the first that accepts a pair compares it.

Specific before generic: the files of a wheel's ``.dist-info`` folder (known by their names)
before ``.pyc`` files, containers (known by their magic bytes) before JSON and text, and the
byte comparison, which accepts everything, last.
"""

from __future__ import annotations

from reprobuild.compare.binary import BYTES
from reprobuild.compare.compressed import BZIP2, GZIP, XZ
from reprobuild.compare.jsonfile import JSON
from reprobuild.compare.pyc import PYC
from reprobuild.compare.tararchive import TAR
from reprobuild.compare.text import TEXT
from reprobuild.compare.wheelmeta import ENTRY_POINTS, METADATA, RECORD, WHEEL
from reprobuild.compare.ziparchive import ZIP

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.compare.comparator import Comparator

__all__ = ["REGISTRY"]

#: Tried in order; the byte comparison, which accepts everything, must stay last.
REGISTRY: tuple[Comparator, ...] = (
    RECORD,
    METADATA,
    WHEEL,
    ENTRY_POINTS,
    PYC,
    ZIP,
    GZIP,
    BZIP2,
    XZ,
    TAR,
    JSON,
    TEXT,
    BYTES,
)
