"""The frozen options of normalization."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEFAULT_SOURCE_DATE_EPOCH", "Policy"]

#: 1980-01-01T00:00:00Z, the earliest time a zip header can hold: used when no
#: ``SOURCE_DATE_EPOCH`` is given, so one default serves zip and tar alike.
DEFAULT_SOURCE_DATE_EPOCH = 315_532_800


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """What canonical means.

    Member times later than ``source_date_epoch`` are clamped to it (earlier ones are kept, as
    the reproducible-builds specification asks). ``skip`` names rules not to apply.
    ``recompress_zip`` re-deflates every zip member at ``level``: off by default, because raw
    copies keep the output independent of the local zlib.
    """

    source_date_epoch: int = DEFAULT_SOURCE_DATE_EPOCH
    file_mode: int = 0o644
    exec_mode: int = 0o755
    dir_mode: int = 0o755
    level: int = 9
    recompress_zip: bool = False
    skip: frozenset[str] = field(default_factory=frozenset)
