"""``verify --keep``: the rebuild kept is the one the verdict was given on, with its record,
even when the hash seed search rebuilt the wheel several times."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from reprobuild.build import BuildResult, BuildSpec, Progress
from reprobuild.buildinfo import BuildOutput
from reprobuild.rebuild import Verdict, Verification
from reprobuild.rebuild.kept import KeepingRebuilder, place_kept
from tests.factories import make_sdist, make_wheel
from tests.rebuild.offline import verify_demo

WHEEL = "demo-1.0-py3-none-any.whl"
SDIST = "demo-1.0.tar.gz"
TIMES = {"demo/__init__.py": (2020, 1, 1, 0, 0, 0)}  # no SOURCE_DATE_EPOCH


def _ordered(order: tuple[str, ...]) -> bytes:
    """A wheel whose METADATA lists Requires-Dist in ``order`` (the hash seed's)."""
    requires = "".join(f"Requires-Dist: {name}\n" for name in order)
    metadata = f"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n{requires}".encode()
    return make_wheel(metadata=metadata, mtime=TIMES)


PUBLISHED = ("aaa", "bbb", "ccc")
OTHER = ("ccc", "aaa", "bbb")


class SeededRebuilder:
    """Builds the wheel in the published order with ``match`` as PYTHONHASHSEED (never, with
    None), in another order with any other seed; a buildinfo record naming the seed."""

    def __init__(self, match: int | None) -> None:
        self.match = match
        self.seeds: list[str] = []

    def __call__(self, spec: BuildSpec, *, progress: Progress | None = None) -> BuildResult:
        self.seeds.append(spec.hash_seed)
        data = _ordered(PUBLISHED if spec.hash_seed == str(self.match) else OTHER)
        spec.outdir.mkdir(parents=True, exist_ok=True)
        path = spec.outdir / WHEEL
        path.write_bytes(data)
        record = spec.outdir / "demo-1.0.buildinfo.json"
        record.write_text(json.dumps({"hash_seed": spec.hash_seed}))
        output = BuildOutput(
            filename=WHEEL, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
        )
        return BuildResult(outputs=(output,), paths=(path,), buildinfo_path=record, buildinfo={})


def _verify(tmp_path: Path, rebuilder: SeededRebuilder) -> tuple[Verification, Path]:
    (tmp_path / WHEEL).write_bytes(_ordered(PUBLISHED))
    (tmp_path / SDIST).write_bytes(make_sdist())
    staging = tmp_path / "staging"
    staging.mkdir()
    result = verify_demo(
        tmp_path / WHEEL,
        tmp_path / SDIST,
        tmp_path / "cache",
        KeepingRebuilder(rebuilder=rebuilder, staging=staging),
    )
    verification = Verification(name="demo", version="1.0", sdist=SDIST, results=(result,))
    return verification, staging


def test_the_rebuild_the_seed_search_matched_is_kept(tmp_path: Path) -> None:
    rebuilder = SeededRebuilder(match=2)
    verification, staging = _verify(tmp_path, rebuilder)
    assert verification.results[0].verdict is Verdict.REPRODUCIBLE
    assert rebuilder.seeds == ["0", "1", "2"]
    kept = place_kept(verification, staging, tmp_path / "kept")
    assert kept == {WHEEL: tmp_path / "kept" / WHEEL}
    assert kept[WHEEL].read_bytes() == (tmp_path / WHEEL).read_bytes()
    record = json.loads((tmp_path / "kept" / f"{WHEEL}.buildinfo.json").read_text())
    assert record == {"hash_seed": "2"}  # the record of that very build


def test_when_no_seed_matches_the_judged_rebuild_is_kept_not_the_last_try(
    tmp_path: Path,
) -> None:
    rebuilder = SeededRebuilder(match=None)
    verification, staging = _verify(tmp_path, rebuilder)
    result = verification.results[0]
    assert result.verdict is Verdict.DIFFERENT
    assert len(rebuilder.seeds) > 2
    kept = place_kept(verification, staging, tmp_path / "kept")
    data = kept[WHEEL].read_bytes()
    assert hashlib.sha256(data).hexdigest() == result.rebuilt_sha256
    assert data == _ordered(OTHER)
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == [
        WHEEL,
        f"{WHEEL}.buildinfo.json",
    ]


def test_nothing_is_kept_for_a_file_that_was_not_rebuilt(tmp_path: Path) -> None:
    from reprobuild.rebuild import ArtifactResult

    result = ArtifactResult(filename=WHEEL, verdict=Verdict.NOT_VERIFIABLE, sha256="0" * 64)
    verification = Verification(name="demo", version="1.0", sdist=None, results=(result,))
    (tmp_path / "kept").mkdir()
    assert place_kept(verification, tmp_path, tmp_path / "kept") == {}
    assert list((tmp_path / "kept").iterdir()) == []
