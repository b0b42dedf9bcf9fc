"""``SOURCE_DATE_EPOCH`` on the command line: the option's type, and the environment's value."""

from __future__ import annotations

import argparse
import os

from reprobuild.errors import UsageError

__all__ = ["epoch_argument", "epoch_from_environment"]


def epoch_argument(text: str) -> int:
    """An argparse type: a whole, non-negative number of seconds since the epoch."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def epoch_from_environment() -> int | None:
    """``SOURCE_DATE_EPOCH`` from the environment, None when unset or empty."""
    text = os.environ.get("SOURCE_DATE_EPOCH")
    if not text:
        return None
    try:
        return epoch_argument(text)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(
            f"SOURCE_DATE_EPOCH={text!r}: {exc}",
            hint="set it to a Unix time in seconds, or unset it",
        ) from None
