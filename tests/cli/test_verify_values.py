"""The text report shows a recipe's times as dates."""

from __future__ import annotations

from reprobuild.cli.verify import _value_text


def test_clock_and_sources_time_are_dates() -> None:
    assert _value_text("build_clock", 0) == _value_text("sources_time", 0)
    assert "1970-01-01" in _value_text("sources_time", 0)
    assert _value_text("sources_time", None) == "none"
    assert _value_text("source_date_epoch", None) == "unset"
