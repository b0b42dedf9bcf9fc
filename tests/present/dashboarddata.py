"""A results database of real verdicts, for the dashboard's tests.

The verify benchmark's table in ``docs/benchmarks.md`` holds 68 real releases, each with its
backend, upload month, verdict with inference alone and with overrides, and the cause of each
miss. :func:`record_benchmark` replays it through the results database's own API: three
attempts of each release's wheel (inference alone, then with overrides, twice), its sdist
checked from a checkout in the later attempts of every other release, a few builds that failed
and attempts that stopped before any file was judged, and one release whose name is markup.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reprobuild.compare.difference import Category, Difference
from reprobuild.rebuild import ArtifactResult, Verdict, Verification
from reprobuild.rebuild.document import recipe_document
from reprobuild.rebuild.history import Attempt, record_failure, record_verification
from reprobuild.strategy import Evidence, Recipe

__all__ = [
    "HOSTILE",
    "BenchmarkRow",
    "benchmark_db",
    "benchmark_rows",
    "record_benchmark",
    "synthetic_attempts",
]

BENCHMARKS = Path(__file__).parents[2] / "docs" / "benchmarks.md"

#: A release name written as markup, which the pages must show as text.
HOSTILE = '<img src=x onerror="alert(1)">'


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchmarkRow:
    """One row of the verify benchmark's table."""

    name: str
    version: str
    backend: str
    uploaded: datetime
    inferred: Verdict
    overridden: Verdict
    cause: str
    seconds: float


def benchmark_rows() -> list[BenchmarkRow]:
    """The rows of the verify benchmark's table, in its order."""
    rows: list[BenchmarkRow] = []
    inside = False
    for line in BENCHMARKS.read_text(encoding="utf-8").splitlines():
        if line.startswith("| release | backend | uploaded | inference alone"):
            inside = True
            continue
        if not inside or line.startswith("|---"):
            continue
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        release, backend, month, inferred, overridden, cause, cold, _warm = cells
        name, _, version = release.partition("==")
        rows.append(
            BenchmarkRow(
                name=name,
                version=version,
                backend=backend,
                uploaded=datetime.strptime(month + "-15", "%Y-%m-%d").replace(tzinfo=UTC),
                inferred=Verdict(inferred),
                overridden=Verdict(overridden.split()[0]),
                cause=cause,
                seconds=float(cold),
            )
        )
    assert len(rows) >= 60, "the verify benchmark's table was not found"
    return rows


def _recipe(row: BenchmarkRow, *, override: str | None) -> Recipe:
    backend_name = re.split(r"[=<>]", row.backend)[0]
    return Recipe(
        requirements=(row.backend,),
        python="3.11",
        wanted_python="3.8",
        source_date_epoch=None,
        exclude_newer=row.uploaded,
        override=override,
        evidence=(
            Evidence(
                field="requirements",
                value=row.backend,
                reason=f"WHEEL Generator: {backend_name} {row.backend.split('==')[-1]}",
            ),
            Evidence(
                field="exclude_newer",
                value=row.uploaded.isoformat(),
                reason=f"uploaded {row.uploaded.isoformat()}",
            ),
            Evidence(field="umask", value="022", reason="every member is 644"),
        ),
    )


def _difference(filename: str, verdict: Verdict, cause: str) -> Difference | None:
    if verdict is Verdict.EQUIVALENT:
        category = Category.ORDER if "order" in cause else Category.TIMESTAMP
        return Difference(
            source_a=filename,
            source_b=filename,
            children=(
                Difference(
                    source_a="file list",
                    source_b="file list",
                    category=category,
                    comment=f"members differ in {category.value}",
                ),
            ),
        )
    if verdict is Verdict.DIFFERENT:
        record = filename.split("-", maxsplit=1)[0] + "-dist-info/RECORD"
        return Difference(
            source_a=filename,
            source_b=filename,
            children=(
                Difference(
                    source_a=record,
                    source_b=record,
                    category=Category.CONTENT,
                    unified_diff=(
                        f"--- {record}\n+++ {record}\n@@ -1,2 +1,2 @@\n"
                        "-pkg/__init__.py,sha256=abc,10\n+pkg/__init__.py,sha256=abd,10\n"
                        " pkg/py.typed,,\n"
                    ),
                ),
                Difference(
                    source_a="<script>alert('member')</script>",
                    source_b="<script>alert('member')</script>",
                    category=Category.TIMESTAMP,
                    comment="mtime 2020-01-01 vs 1980-01-01",
                ),
            ),
        )
    return None


def _wheel(row: BenchmarkRow, verdict: Verdict, *, override: str | None) -> ArtifactResult:
    filename = f"{row.name.replace('-', '_')}-{row.version}-py3-none-any.whl"
    cause = "" if verdict is Verdict.REPRODUCIBLE else row.cause
    if verdict is Verdict.EQUIVALENT and not cause:
        cause = "identical after normalization; differs in timestamp"
    return ArtifactResult(
        filename=filename,
        verdict=verdict,
        sha256=hashlib.sha256(filename.encode()).hexdigest(),
        rebuilt_sha256=hashlib.sha256(f"{filename} {verdict.value}".encode()).hexdigest(),
        recipe=_recipe(row, override=override),
        categories=("timestamp",) if verdict is Verdict.EQUIVALENT else (),
        cause=cause,
        difference=_difference(filename, verdict, cause),
        seconds=row.seconds,
    )


def record_benchmark(db: Path) -> int:
    """Record the benchmark's verdicts in ``db`` (see the module's docstring); the number of
    rows recorded."""
    start = datetime(2026, 9, 1, 12, tzinfo=UTC)
    rows = benchmark_rows()
    count = 0
    for attempt in range(3):
        for index, row in enumerate(rows):
            when = start + timedelta(days=35 * attempt, minutes=3 * index)
            verdict = row.inferred if attempt == 0 else row.overridden
            override = f"{row.name}.toml" if attempt and row.overridden != row.inferred else None
            results = [_wheel(row, verdict, override=override)]
            if attempt and index % 2 == 0:
                results.append(
                    ArtifactResult(
                        filename=f"{row.name}-{row.version}.tar.gz",
                        verdict=Verdict.REPRODUCIBLE,
                        sha256="c" * 64,
                        rebuilt_sha256="c" * 64,
                        recipe=_recipe(row, override=None),
                        seconds=1.0,
                    )
                )
            if attempt == 1 and index % 17 == 5:
                results = [
                    ArtifactResult(
                        filename=results[0].filename,
                        verdict=Verdict.BUILD_FAILED,
                        sha256=results[0].sha256,
                        recipe=results[0].recipe,
                        cause=f"the build requirement {row.backend} did not install: "
                        "no such version before the cut-off date",
                        seconds=0.4,
                    )
                ]
            verification = Verification(
                name=row.name,
                version=row.version,
                sdist=f"{row.name}-{row.version}.tar.gz",
                results=tuple(results),
            )
            record_verification(db, verification, started=when)
            count += len(results)
            if attempt == 0 and index % 20 == 7:
                record_failure(
                    db,
                    name=row.name,
                    version=row.version,
                    cause="the index could not be reached: timed out",
                    started=when - timedelta(minutes=1),
                    seconds=30.0,
                )
                count += 1
    hostile = Verification(
        name=HOSTILE,
        version="1.0</script>",
        sdist=None,
        results=(_wheel(rows[0], Verdict.DIFFERENT, override=None),),
    )
    record_verification(db, hostile, started=start + timedelta(days=75), origin="local")
    return count + 1


_RECORDED: dict[str, bytes] = {}


def benchmark_db(db: Path) -> Path:
    """``db`` holding :func:`record_benchmark`'s rows: recorded once per test run, then copied
    (recording costs a transaction per attempt)."""
    if "db" not in _RECORDED:
        record_benchmark(db)
        _RECORDED["db"] = db.read_bytes()
    else:
        db.parent.mkdir(parents=True, exist_ok=True)
        db.write_bytes(_RECORDED["db"])
    return db


def synthetic_attempts(count: int) -> Iterator[Attempt]:
    """``count`` attempts shaped like the benchmark's, one per made-up release (the real ones
    with made-up versions), for the tests of size."""
    rows = benchmark_rows()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(count):
        row = rows[i % len(rows)]
        verdict = row.inferred if i % 7 else row.overridden
        wheel = _wheel(row, verdict, override=None)
        assert wheel.recipe is not None
        yield Attempt(
            id=i + 1,
            name=row.name,
            version=f"{row.version}.post{i // len(rows)}",
            filename=wheel.filename,
            verdict=wheel.verdict.value,
            cause=wheel.cause,
            categories=wheel.categories,
            sha256=wheel.sha256,
            rebuilt_sha256=wheel.rebuilt_sha256,
            override=None,
            started=(start + timedelta(hours=i)).isoformat(),
            seconds=wheel.seconds,
            tool_version="0.1.0",
            origin="index",
            recipe=recipe_document(wheel.recipe),
            difference=wheel.difference,
        )
