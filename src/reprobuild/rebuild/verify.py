"""Verify a published release: rebuild each pure wheel from the release's sdist and judge it.

For every wheel of a release, :func:`verify_wheel` infers a recipe from the published file,
applies a recipe override when one fits, rebuilds the wheel from the published sdist with that
recipe (not normalized: the rebuild must stand on its own), and gives one verdict:

- ``reproducible``: the same sha256;
- ``equivalent``: identical once both are normalized; the categories that differed are listed;
- ``different``: the difference tree, and a named cause;
- ``not-verifiable``: no sdist to rebuild from, or a compiled wheel;
- ``build-failed``: the cause and the tail of the build's log.

Most of a recipe is read from the published files; what is fitted (chosen by trying values
against the published file: the time zone scored against its member times, the hash seed
rebuilt with until the bytes match, the normalization chosen because the published file is
already canonical) is listed apart, with the number of tries (:attr:`ArtifactResult.fitted`),
and a verdict that rests on it says so (:attr:`ArtifactResult.verdict_text`).
"""

from __future__ import annotations

import enum
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from reprobuild._fs import read_bytes_mapped, sha256_chunks, sha256_file
from reprobuild._types import Buffer, JSONValue
from reprobuild.archive import load_archive, parse_archive
from reprobuild.build import BUILD_ROOT, BuildSpec, Progress, build
from reprobuild.compare import CompareOptions, Item, compare
from reprobuild.compare.difference import Category, Difference
from reprobuild.dist import dist_info_text
from reprobuild.errors import BuildError, ProjectError, ReprobuildError, UsageError
from reprobuild.frontend import Interpreter, PythonProvider, Sandbox, default_sandbox
from reprobuild.index import IndexClient, IndexFile, release_files
from reprobuild.normalize import DEFAULT_SOURCE_DATE_EPOCH, Policy, normalize_bytes
from reprobuild.rebuild.pythons import with_wanted_python
from reprobuild.rebuild.rebuilder import Rebuilder
from reprobuild.rebuild.specifier_order import specifier_order
from reprobuild.strategy import (
    Evidence,
    Fitted,
    Recipe,
    find_override,
    infer_recipe,
    infer_sdist_recipe,
    is_pure,
    python2_only,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.actions import Performed

__all__ = [
    "ArtifactResult",
    "Verdict",
    "Verification",
    "explain",
    "verify_release",
    "verify_sdist",
    "verify_wheel",
]


#: The hash seeds tried after 0 when METADATA comes out in another order than published.
HASH_SEED_TRIES = 15
#: ... when no reordered field has more values than this (k values have k! orders: 15 seeds
#: find one of 24 orders about half the time, one of 120 rarely)
HASH_SEED_MAX_VALUES = 4


class Verdict(enum.Enum):
    """What a rebuild showed about one published artifact."""

    REPRODUCIBLE = "reproducible"
    EQUIVALENT = "equivalent"
    DIFFERENT = "different"
    NOT_VERIFIABLE = "not-verifiable"
    BUILD_FAILED = "build-failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactResult:
    """The verdict on one published file, with what it rests on."""

    filename: str
    verdict: Verdict
    sha256: str  #: of the published file
    rebuilt_sha256: str | None = None
    rebuilt_filename: str | None = None
    recipe: Recipe | None = None
    categories: tuple[str, ...] = ()  #: the categories that differed (equivalent, different)
    cause: str = ""  #: one sentence: why it is not reproducible, or why it was not checked
    difference: Difference | None = None
    log_tail: str = ""
    seconds: float = 0.0
    #: what the sandbox kept the rebuild from doing (writes outside its build folder, which it
    #: discarded), one sentence each: a release that reproduces can still have tried
    contained: tuple[str, ...] = ()
    #: where the judged rebuild came from when it went through the action cache: built here,
    #: or found in the local or the remote cache (its key, when and where it was built)
    rebuild: Performed | None = None
    #: the sha256 of the sdist a wheel was rebuilt from (None for a checkout, or no rebuild)
    source_sha256: str | None = None
    #: the buildinfo record of the judged rebuild (its pinned build environments, variables,
    #: sandbox), as :mod:`reprobuild.buildinfo` describes it; empty when nothing was built
    buildinfo: Mapping[str, JSONValue] = field(default_factory=dict)

    @property
    def fitted(self) -> tuple[Fitted, ...]:
        """The recipe's fields chosen by trying values against the published file (empty when
        everything was read, or when there is no recipe)."""
        return self.recipe.fitted if self.recipe is not None else ()

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps outside the build that the rebuild went through, in words: the
        normalization after it, and a recipe override's steps before it."""
        if self.recipe is None:
            return ()
        normalized = (
            ("normalized to reprobuild's canonical form",) if self.recipe.normalized else ()
        )
        return (*(step.describe() for step in self.recipe.steps), *normalized)

    @property
    def verdict_text(self) -> str:
        """The verdict with what a match rests on besides reading:
        ``reproducible (fitted: hash seed after 3 tries)``, ``reproducible (with step: …)``;
        the bare verdict otherwise."""
        verdict: str = self.verdict.value
        if self.verdict not in (Verdict.REPRODUCIBLE, Verdict.EQUIVALENT):
            return verdict
        parts = []
        # the normalization is said as the step it is
        fitted = [f.describe() for f in self.fitted if f.field != "normalized"]
        if fitted:
            parts.append("fitted: " + ", ".join(fitted))
        if self.steps:
            parts.append(
                ("with step: " if len(self.steps) == 1 else "with steps: ") + ", ".join(self.steps)
            )
        return verdict + (f" ({'; '.join(parts)})" if parts else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """The results for one release (or one pair of local files)."""

    name: str
    version: str
    sdist: str | None
    results: tuple[ArtifactResult, ...]
    #: the sandbox its rebuilds ran in (:meth:`Sandbox.to_json`); empty when none was needed
    sandbox: Mapping[str, JSONValue] = field(default_factory=dict)

    @property
    def reproducible(self) -> bool:
        return bool(self.results) and all(r.verdict is Verdict.REPRODUCIBLE for r in self.results)


def verify_release(
    name: str,
    version: str,
    *,
    client: IndexClient,
    cache_dir: Path,
    pythons: Sequence[Interpreter] = (),
    recipe_folders: Sequence[Path] = (),
    overrides: bool = True,
    progress: Progress | None = None,
    build_root: Path = BUILD_ROOT,
    sandbox: Sandbox | None = None,
    source: Path | None = None,
    rebuilder: Rebuilder = build,
    python_provider: PythonProvider | None = None,
) -> Verification:
    """Download release ``name`` ``version`` from the index and verify each of its wheels
    (``build_root``: the folder the rebuilds run in, one build at a time; ``overrides``: False
    to ignore every recipe override file, so that the recipe is inferred alone; ``source``: a
    checkout of the release, to rebuild and judge the sdist too; ``rebuilder``: what builds
    each rebuild's spec, the sandboxed build unless another is given)."""
    say = progress or (lambda _message: None)
    sandbox = sandbox if sandbox is not None else default_sandbox()
    files = release_files(client.project_files(name), name, version)
    if not files:
        raise UsageError(
            f"the index has no files of {name} {version}",
            hint="check the name and version (pip index versions NAME lists them)",
        )
    sdists = [f for f in files if not f.filename.endswith(".whl")]
    wheels = [f for f in files if f.filename.endswith(".whl")]
    sdist_file: IndexFile | None = sdists[0] if sdists else None
    sdist_path = None
    if sdist_file is not None and (source is not None or any(is_pure(w.filename) for w in wheels)):
        say(f"downloading {sdist_file.filename}")
        sdist_path = client.download(sdist_file)
    results = []
    for wheel in wheels:
        if not is_pure(wheel.filename):  # its tags say so: nothing to download
            results.append(
                ArtifactResult(
                    filename=wheel.filename,
                    verdict=Verdict.NOT_VERIFIABLE,
                    sha256=wheel.sha256 or "",
                    cause=COMPILED,
                )
            )
            continue
        say(f"downloading {wheel.filename}")
        wheel_path = client.download(wheel)
        results.append(
            verify_wheel(
                wheel_path,
                sdist_path,
                name=name,
                version=version,
                upload_time=wheel.upload_time,
                cache_dir=cache_dir,
                pythons=pythons,
                recipe_folders=recipe_folders,
                overrides=overrides,
                progress=say,
                build_root=build_root,
                sandbox=sandbox,
                rebuilder=rebuilder,
                python_provider=python_provider,
            )
        )
    if source is not None:
        base = next((r.recipe for r in results if r.recipe is not None), None)
        if sdist_file is None or sdist_path is None:
            checked = ArtifactResult(
                filename=source.name,
                verdict=Verdict.NOT_VERIFIABLE,
                sha256="",
                cause="the release has no sdist to compare the checkout's with",
            )
        else:
            checked = verify_sdist(
                source,
                sdist_path,
                upload_time=sdist_file.upload_time,
                base=base,
                cache_dir=cache_dir,
                pythons=pythons,
                progress=say,
                build_root=build_root,
                sandbox=sandbox,
                rebuilder=rebuilder,
                python_provider=python_provider,
            )
        results.insert(0, checked)
    if not wheels and sdist_file is not None:
        results.append(
            ArtifactResult(
                filename=sdist_file.filename,
                verdict=Verdict.NOT_VERIFIABLE,
                sha256=sdist_file.sha256 or "",
                cause="the release has no wheel to rebuild",
            )
        )
    return Verification(
        name=name,
        version=version,
        sdist=sdist_file.filename if sdist_file else None,
        results=tuple(results),
        sandbox=sandbox.to_json(),
    )


#: The cause given for a wheel whose tags name an ABI or a platform.
COMPILED = "a compiled wheel: its bytes depend on the compiler and the machine"


def verify_wheel(
    wheel_path: Path,
    sdist_path: Path | None,
    *,
    name: str,
    version: str,
    upload_time: datetime | None,
    cache_dir: Path,
    pythons: Sequence[Interpreter] = (),
    recipe_folders: Sequence[Path] = (),
    overrides: bool = True,
    progress: Progress | None = None,
    build_root: Path = BUILD_ROOT,
    sandbox: Sandbox | None = None,
    rebuilder: Rebuilder = build,
    python_provider: PythonProvider | None = None,
) -> ArtifactResult:
    """Rebuild the published wheel at ``wheel_path`` from ``sdist_path`` with ``rebuilder``
    (the sandboxed build unless another is given) and judge it; when the recipe's Python is
    a substitution, ``python_provider`` is asked for the wanted one (see
    :func:`~reprobuild.rebuild.pythons.with_wanted_python`)."""
    say = progress or (lambda _message: None)
    sandbox = sandbox if sandbox is not None else default_sandbox()
    started = time.monotonic()
    published = read_bytes_mapped(wheel_path)  # a large wheel is never read in whole
    digest = sha256_file(wheel_path)
    filename = wheel_path.name

    result = _Result(
        filename=filename,
        digest=digest,
        started=started,
        source_digest=sha256_file(sdist_path) if sdist_path is not None else None,
    )

    if not is_pure(filename):
        return result(
            Verdict.NOT_VERIFIABLE,
            cause=COMPILED,
        )
    if python2_only(filename):
        return result(
            Verdict.NOT_VERIFIABLE,
            cause="a wheel for Python 2 (its tags say so): build environments need Python 3",
        )
    if sdist_path is None:
        return result(Verdict.NOT_VERIFIABLE, cause="the release has no sdist to rebuild from")
    try:
        archive = parse_archive(published)
    except ReprobuildError as exc:
        return result(Verdict.NOT_VERIFIABLE, cause=f"the published wheel does not read: {exc}")
    try:
        sdist = load_archive(sdist_path, identical_duplicates=True)
    except (OSError, ReprobuildError) as exc:
        return result(Verdict.NOT_VERIFIABLE, cause=f"the sdist does not read: {exc}")
    recipe = infer_recipe(
        archive,
        filename=filename,
        upload_time=upload_time,
        pythons=[p.version for p in pythons],
        sdist=sdist,
    )
    recipe, pythons = with_wanted_python(recipe, pythons, python_provider, say)
    recipe = _canonical(recipe, published, filename)
    override = find_override(name, version, folders=recipe_folders) if overrides else None
    if override is not None:
        recipe = replace(
            recipe,
            steps=override.steps,
            override=override.origin,
            evidence=(
                *recipe.evidence,
                Evidence(field="steps", value=override.origin, reason=override.reason),
            ),
        )

    def rebuild(seed: int) -> tuple[Buffer, str, Performed | None] | ArtifactResult:
        """The rebuilt wheel's bytes and name, under ``PYTHONHASHSEED`` ``seed``."""
        return _rebuild(
            recipe,
            sdist_path,
            wheel=True,
            cache_dir=cache_dir,
            pythons=pythons,
            build_root=build_root,
            sandbox=sandbox,
            rebuilder=rebuilder,
            result=result,
            say=say,
            adjust=lambda spec: _unpacked_times(
                replace(
                    spec,
                    build_clock=recipe.build_clock,
                    closing_clock=recipe.closing_clock,
                    dist_info_clock=recipe.dist_info_clock,
                    distutils_config="[bdist_wheel]\nuniversal = 1\n" if recipe.universal else "",
                    setup_py=recipe.setup_py,
                    keep_egg_info=recipe.keep_egg_info,
                    normalize=recipe.normalized,
                    hash_seed=str(seed),
                    steps=recipe.steps,
                ),
                recipe,
            ),
        )

    made = rebuild(recipe.hash_seed)
    if isinstance(made, ArtifactResult):
        return made
    judged = _judge(published, filename, *made[:2], recipe, result, action=made[2])
    if judged.verdict is not Verdict.DIFFERENT:
        return judged
    if _only_reordered(judged.difference):
        fields = _reordered_fields(judged.difference)
        metadata = (dist_info_text(archive, "METADATA") or "").splitlines()
        most = max(sum(line.startswith(f"{f}: ") for line in metadata) for f in fields)
        ordered = (
            "METADATA lists " + ", ".join(fields) + " in the order of the publisher's hash seed"
        )
    else:
        # the wheel package before 0.30 wrote a requirement's specifiers from a set too
        most = specifier_order(judged.difference, published, made[0])
        if not most:
            return judged
        ordered = (
            "METADATA writes the version specifiers of Requires-Dist in the order of the "
            "publisher's hash seed (the wheel package before 0.30 took them from a set)"
        )
        judged = replace(judged, cause=ordered + "; " + judged.cause)
    if most > HASH_SEED_MAX_VALUES:
        return replace(
            judged,
            cause=judged.cause + f"; {most} values in a set's order: too many orders to search "
            "the hash seed for",
        )
    # Old setuptools wrote some METADATA fields from a set: their order is the publisher's
    # hash seed's, which was random. Any seed that gives the same order is as good as theirs.
    for seed in range(1, HASH_SEED_TRIES + 1):
        say(f"METADATA is in another order: rebuilding with PYTHONHASHSEED={seed}")
        again = rebuild(seed)
        if isinstance(again, ArtifactResult):
            # the search ends; the verdict stays the one on seed 0's rebuild, which built
            return replace(
                judged,
                cause=judged.cause
                + f"; no PYTHONHASHSEED from 0 to {seed - 1} gives the publisher's order, and "
                + f"the rebuild with {seed} failed ({again.cause}): the search stopped there",
            )
        if sha256_chunks((again[0],))[0] == digest:
            recipe = replace(
                recipe,
                hash_seed=seed,
                fitted=(
                    *recipe.fitted,
                    Fitted(
                        field="hash_seed",
                        value=str(seed),
                        tries=seed + 1,
                        against="the published wheel's bytes, rebuilt with seeds from 0 up",
                        reason=ordered
                        + f"; PYTHONHASHSEED={seed} gives it (try {seed + 1} of at most "
                        + f"{HASH_SEED_TRIES + 1})",
                    ),
                ),
            )
            return _judge(published, filename, *again[:2], recipe, result, action=again[2])
    return replace(
        judged,
        cause=judged.cause
        + f"; no PYTHONHASHSEED from 0 to {HASH_SEED_TRIES} gives the publisher's order",
    )


def _unpacked_times(spec: BuildSpec, recipe: Recipe) -> BuildSpec:
    """``spec`` with the unpacked sdist's files timed as ``recipe`` says: each member's own
    time (as pip unpacks an sdist), or with its ``sources_time`` that one instant for all of
    them (which the build does not see as ``SOURCE_DATE_EPOCH``: it is not exported)."""
    if recipe.sources_time is None:
        return replace(spec, sdist_times="members")
    return replace(
        spec,
        sdist_times="epoch",
        source_date_epoch=recipe.sources_time,
        source_date_epoch_from="recipe (sources_time, not exported)",
        export_source_date_epoch=False,
    )


def verify_sdist(
    source: Path,
    sdist_path: Path,
    *,
    upload_time: datetime | None,
    base: Recipe | None,
    cache_dir: Path,
    pythons: Sequence[Interpreter] = (),
    progress: Progress | None = None,
    build_root: Path = BUILD_ROOT,
    sandbox: Sandbox | None = None,
    rebuilder: Rebuilder = build,
    python_provider: PythonProvider | None = None,
) -> ArtifactResult:
    """Rebuild the published sdist at ``sdist_path`` from the project folder ``source`` (a
    checkout of the release) with ``rebuilder`` and judge it; ``base`` is the recipe of the
    release's wheel, for the backend, the Python and the cut-off an sdist does not record."""
    say = progress or (lambda _message: None)
    sandbox = sandbox if sandbox is not None else default_sandbox()
    started = time.monotonic()
    published = read_bytes_mapped(sdist_path)  # a large sdist is never read in whole
    filename = sdist_path.name
    result = _Result(filename=filename, digest=sha256_file(sdist_path), started=started)
    try:
        archive = parse_archive(published, identical_duplicates=True)
    except ReprobuildError as exc:
        return result(Verdict.NOT_VERIFIABLE, cause=f"the published sdist does not read: {exc}")
    recipe = _canonical(
        infer_sdist_recipe(archive, upload_time=upload_time, base=base), published, filename
    )
    recipe, pythons = with_wanted_python(recipe, pythons, python_provider, say)
    say(f"rebuilding {filename} from {source}")
    made = _rebuild(
        recipe,
        source,
        wheel=False,
        cache_dir=cache_dir,
        pythons=pythons,
        build_root=build_root,
        sandbox=sandbox,
        rebuilder=rebuilder,
        result=result,
        say=say,
        adjust=lambda spec: replace(
            spec, sdist_clock=recipe.build_clock, normalize=recipe.normalized
        ),
    )
    if isinstance(made, ArtifactResult):
        return made
    return _judge(published, filename, *made[:2], recipe, result, action=made[2])


def _canonical(recipe: Recipe, published: Buffer, filename: str) -> Recipe:
    """``recipe``, set to normalize the rebuild when the published file is in reprobuild's
    canonical form for the recipe's ``SOURCE_DATE_EPOCH``: it was normalized after its build,
    as ``reprobuild build`` does. The choice is fitted (the published file is normalized and
    compared with itself), and recorded so."""
    epoch = recipe.source_date_epoch
    if epoch is None:
        return recipe
    policy = Policy(source_date_epoch=epoch)
    try:
        canonical = normalize_bytes(published, filename=filename, policy=policy).canonical
    except ReprobuildError:  # a RECORD that does not verify, say: not in canonical form
        return recipe
    if not canonical:
        return recipe
    kind = "wheel" if filename.endswith(".whl") else "sdist"
    said = Fitted(
        field="normalized",
        value="yes",
        tries=1,
        against=f"the published {kind}'s bytes, normalized",
        reason="the file is in reprobuild's canonical form for its SOURCE_DATE_EPOCH: it was "
        "normalized after its build (reprobuild build does that)",
    )
    return replace(recipe, normalized=True, fitted=(*recipe.fitted, said))


def _rebuild(
    recipe: Recipe,
    source: Path,
    *,
    wheel: bool,
    cache_dir: Path,
    pythons: Sequence[Interpreter],
    build_root: Path,
    sandbox: Sandbox | None,
    rebuilder: Rebuilder,
    result: _Result,
    say: Progress,
    adjust: Callable[[BuildSpec], BuildSpec],
) -> tuple[Buffer, str, Performed | None] | ArtifactResult:
    """Build ``source`` with ``recipe`` (the spec made from it passed through ``adjust``), not
    normalized, in a scratch folder, by ``rebuilder``; return the wheel's (or with ``wheel``
    False the sdist's) bytes and name, and the action it was (when a cache was involved), or
    the ``build-failed`` result."""
    python = next((p.executable for p in pythons if p.version == recipe.python), None)
    with tempfile.TemporaryDirectory(prefix="reprobuild-verify-") as scratch:
        spec = BuildSpec(
            source=source,
            outdir=Path(scratch) / "out",
            cache_dir=cache_dir,
            source_date_epoch=recipe.source_date_epoch,
            source_date_epoch_from="recipe",
            export_source_date_epoch=recipe.source_date_epoch is not None,
            exclude_newer=recipe.exclude_newer,
            normalize=False,
            umask=recipe.umask,
            timezone=recipe.timezone,
            python=python,
            overrides=recipe.requirements,
            build_root=build_root,
            sandbox=sandbox,
        )
        try:
            built = rebuilder(adjust(spec), progress=say)
            result.contained.extend(built.contained)
            result.buildinfo.clear()  # the record of the last rebuild, the one judged next
            result.buildinfo.update(built.buildinfo)
        except BuildError as exc:
            return result(
                Verdict.BUILD_FAILED, cause=exc.reason, recipe=recipe, log_tail=exc.log_tail
            )
        except ProjectError as exc:
            return result(Verdict.BUILD_FAILED, cause=str(exc), recipe=recipe)
        made = [p for p in built.paths if p.name.endswith(".whl") is wheel]
        if not made:
            kind = "wheel" if wheel else "sdist"
            return result(Verdict.BUILD_FAILED, cause=f"the build made no {kind}", recipe=recipe)
        # mapped: the mapping outlives the scratch folder, and a large file is not read in
        return read_bytes_mapped(made[0]), made[0].name, built.action


@dataclass(frozen=True, slots=True, kw_only=True)
class _Result:
    """Makes the results for the published ``filename`` (sha256 ``digest``), timed from
    ``started``."""

    filename: str
    digest: str
    started: float
    #: what the sandbox kept this artifact's rebuilds from doing, as they report it
    contained: list[str] = field(default_factory=list)
    #: the sha256 of the sdist rebuilt from (None for a checkout)
    source_digest: str | None = None
    #: the buildinfo record of the last rebuild
    buildinfo: dict[str, JSONValue] = field(default_factory=dict)

    def __call__(
        self,
        verdict: Verdict,
        *,
        cause: str,
        recipe: Recipe | None = None,
        rebuilt: tuple[str, str] | None = None,
        difference: Difference | None = None,
        log_tail: str = "",
        rebuild: Performed | None = None,
    ) -> ArtifactResult:
        return ArtifactResult(
            filename=self.filename,
            verdict=verdict,
            sha256=self.digest,
            rebuilt_filename=rebuilt[0] if rebuilt else None,
            rebuilt_sha256=rebuilt[1] if rebuilt else None,
            recipe=recipe,
            categories=tuple(sorted(c.value for c in difference.counts())) if difference else (),
            cause=cause,
            difference=difference,
            log_tail=log_tail,
            seconds=round(time.monotonic() - self.started, 3),
            contained=tuple(dict.fromkeys(self.contained)),
            rebuild=rebuild,
            source_sha256=self.source_digest,
            buildinfo=dict(self.buildinfo),
        )


def _judge(
    published: Buffer,
    filename: str,
    rebuilt: Buffer,
    rebuilt_name: str,
    recipe: Recipe,
    result: _Result,
    *,
    action: Performed | None = None,
) -> ArtifactResult:
    """The verdict on a rebuild (``action``: the action it was, when a cache was involved):
    the same bytes, the same once normalized, or different."""
    digest = sha256_chunks((published,))[0]
    rebuilt_digest = sha256_chunks((rebuilt,))[0]
    made = (rebuilt_name, rebuilt_digest)
    if rebuilt_digest == digest:
        return result(Verdict.REPRODUCIBLE, cause="", recipe=recipe, rebuilt=made, rebuild=action)
    difference = compare(
        Item(name=filename, data=published),
        Item(name=rebuilt_name, data=rebuilt),
        CompareOptions(max_diff_lines=50, labels=("published", "rebuilt")),
    )
    categories = sorted(c.value for c in difference.counts()) if difference else []
    # members deflated again, both sides by this zlib: another zlib's (or level's) bytes for
    # the same content are a compression difference, which normalization removes
    policy = Policy(source_date_epoch=DEFAULT_SOURCE_DATE_EPOCH, recompress_zip=True)
    # compared by digest, each computed a piece at a time: neither side is held whole
    unreadable = ""
    digests: list[str] = []
    if rebuilt_name == filename:
        for side, data in (("published", published), ("rebuilt", rebuilt)):
            try:
                digests.append(normalize_bytes(data, filename=filename, policy=policy).sha256())
            except ReprobuildError as exc:  # a RECORD that does not verify: a file changed
                unreadable = f"; the {side} file does not normalize: {exc}"
                break
    same_normalized = len(digests) == 2 and digests[0] == digests[1]
    if same_normalized:
        return result(
            Verdict.EQUIVALENT,
            cause="identical after normalization; differs in " + ", ".join(categories),
            recipe=recipe,
            rebuilt=made,
            difference=difference,
            rebuild=action,
        )
    reordered = _reordered_fields(difference)
    return result(
        Verdict.DIFFERENT,
        cause=explain(
            difference,
            archive_name=filename,
            rebuilt_name=rebuilt_name,
            recipe=recipe,
            sorted_fields=_sorted_by_writer(published, rebuilt, reordered) if reordered else (),
        )
        + unreadable,
        recipe=recipe,
        rebuilt=made,
        difference=difference,
        rebuild=action,
    )


def _reordered_fields(difference: Difference | None) -> list[str]:
    """The METADATA fields listed in another order (a set's order: the hash seed's)."""
    return sorted(
        {
            node.source_a.rpartition(" › ")[2]
            for node in (difference.walk() if difference else ())
            if node.category is Category.METADATA_ORDER
            and ".dist-info/METADATA › " in node.source_a
        }
    )


def _groups(metadata: str, field: str) -> dict[str, list[str]]:
    """The values of METADATA's ``field`` (``Requires-Dist``) by what follows their ``;``
    (an environment marker, an extra): the groups a writer lists one after another."""
    out: dict[str, list[str]] = {}
    prefix = field.lower() + ":"
    for line in metadata.partition("\n\n")[0].splitlines():
        if line.lower().startswith(prefix):
            value = line[len(prefix) :].strip()
            out.setdefault(value.partition(";")[2].strip(), []).append(value)
    return out


def _sorted_by_writer(published: Buffer, rebuilt: Buffer, fields: Sequence[str]) -> tuple[str, ...]:
    """The ``fields`` (reordered in METADATA) whose values the published wheel lists sorted,
    group by group (see :func:`_groups`), and the rebuild does not: the publisher's writer
    sorted them (into requires.txt, say, which bdist_wheel turns into Requires-Dist), which no
    hash seed explains: a set's order is sorted in every group rarely. Empty when a wheel
    does not read."""
    try:
        texts = [
            dist_info_text(parse_archive(data), "METADATA") or "" for data in (published, rebuilt)
        ]
    except ReprobuildError:
        return ()

    def in_order(text: str, field: str) -> bool:
        groups = _groups(text, field).values()
        return all(values == sorted(values, key=str.lower) for values in groups)

    return tuple(
        f
        for f in fields
        if in_order(texts[0], f)
        and not in_order(texts[1], f)
        and any(len(values) > 1 for values in _groups(texts[0], f).values())
    )


def _only_reordered(difference: Difference | None) -> bool:
    """Whether METADATA fields in another order are all there is: the rest of the tree is
    RECORD's row for METADATA (its hash), so another hash seed could give the same bytes."""
    if not _reordered_fields(difference) or difference is None:
        return False
    for node in difference.walk():
        if node.category is None or node.category is Category.METADATA_ORDER:
            continue
        if node.category is Category.CONTENT and node.source_a.endswith(".dist-info/RECORD"):
            continue
        if ".dist-info/METADATA" in node.source_a:
            continue
        return False
    return True


def _members(difference: Difference | None) -> dict[Category, list[str]]:
    """The members (the archive's children in the tree, under a gzip stream's node for an
    sdist) under each category."""
    out: dict[Category, list[str]] = {}
    if difference is None:
        return out
    if difference.source_a.endswith((".gz", ".bz2", ".xz")) and len(difference.children) == 1:
        difference = difference.children[0]  # the compressed stream's node: its archive
    for child in difference.children:
        for category in child.counts():
            out.setdefault(category, []).append(child.source_a)
    return out


def _listing(names: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def explain(
    difference: Difference | None,
    *,
    archive_name: str,
    rebuilt_name: str,
    recipe: Recipe,
    sorted_fields: Sequence[str] = (),
) -> str:
    """One sentence naming the likely cause of a difference that normalization does not remove
    (``sorted_fields``: METADATA fields the published wheel lists sorted and the rebuild does
    not, see :func:`_sorted_by_writer`)."""
    causes = []
    if rebuilt_name != archive_name and archive_name.endswith(".whl"):
        causes.append(f"the rebuild is named {rebuilt_name}: its tags differ")
    elif rebuilt_name != archive_name:
        causes.append(f"the checkout builds {rebuilt_name}: check out the release's own version")
    members = _members(difference)
    comments = " ".join(
        node.comment or "" for node in (difference.walk() if difference else ()) if node.comment
    )
    if "MS-DOS" in comments or "CRLF" in comments:
        causes.append("built on Windows (create_system MS-DOS or CRLF line ends)")
    if Category.MISSING in members:
        causes.append(
            "the published wheel holds files the sdist does not produce: "
            + _listing(members[Category.MISSING])
            + " (a release step outside the sdist: a recipe override can record it)"
        )
    if Category.ADDED in members:
        causes.append(
            "the rebuild holds files the published wheel does not: "
            + _listing(members[Category.ADDED])
        )
    reordered = [f for f in _reordered_fields(difference) if f not in sorted_fields]
    if sorted_fields:
        causes.append(
            "METADATA lists "
            + ", ".join(sorted_fields)
            + " sorted, the rebuild in the project's order: the publisher's writer sorted them, "
            "not a hash seed"
        )
    if reordered:
        causes.append(
            "METADATA lists " + ", ".join(reordered) + " in another order: the publisher's "
            "setuptools wrote them from a set, in the order of its PYTHONHASHSEED"
        )
    content = [
        m for m in members.get(Category.CONTENT, []) if m not in members.get(Category.MISSING, [])
    ]
    if content:
        metadata_only = all(".dist-info/" in m for m in content)
        where = "only in .dist-info files" if metadata_only else "in installed files"
        backend = ", ".join(recipe.requirements) or "the project's own requirements"
        causes.append(
            f"content differs {where}: {_listing(content)}"
            + (f" (metadata written by {backend} at the cut-off date)" if metadata_only else "")
        )
    return "; ".join(causes) or "differences normalization does not remove"
