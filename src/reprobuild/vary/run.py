"""``vary``: build a project under the control and under every variation, and name the cause.

1. The control is built twice, and the experiment (every variation at once) once. When the
   experiment gives the control's bytes, the project is reproducible under every variation
   (and the second control build is not needed).
2. An artifact whose two control builds differ is random on its own: no variation can be
   blamed for it, and the report names its differing members.
3. For the others, :func:`~reprobuild.vary.attribute.attribute` halves the set of variations
   until it has the culprits; each artifact's difference (from ``diff``) and the culprits give
   the fixes (:mod:`reprobuild.vary.fixes`).

Builds run one after another, or ``jobs`` at a time in worker processes (a build sets its
process's umask). Builds of one build folder wait for each other (the folder is locked).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reprobuild.build import BuildSpec, Progress, build
from reprobuild.compare import CompareOptions, Item, compare
from reprobuild.compare.difference import Difference
from reprobuild.errors import BuildError, ReprobuildError, UsageError
from reprobuild.frontend import read_build_system
from reprobuild.index import IndexClient, release_files
from reprobuild.vary.attribute import Culprit, attribute
from reprobuild.vary.fixes import evidence_of, fixes_for, random_fix
from reprobuild.vary.variations import (
    EXPERIMENT_HOST,
    EXPERIMENT_USER,
    VARY_ROOT,
    Variation,
    control_spec,
)

__all__ = [
    "ArtifactFinding",
    "BuildRun",
    "Builder",
    "VariationStatus",
    "VaryReport",
    "parallel_builder",
    "release_sdist",
    "serial_builder",
    "vary",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildRun:
    """One build of ``vary``: what it applied, and the artifacts it made or why it failed."""

    label: str
    variations: tuple[str, ...]
    artifacts: dict[str, Path] = field(default_factory=dict)  #: kind -> file
    digests: dict[str, str] = field(default_factory=dict)  #: kind -> sha256
    error: str = ""
    hint: str = ""
    seconds: float = 0.0

    def signature(self, kind: str) -> str:
        """What two builds must share for ``kind`` to be the same: file name and sha256."""
        if kind not in self.artifacts:
            return "build-failed" if self.error else "missing"
        return f"{self.artifacts[kind].name} {self.digests[kind]}"


#: Runs a batch of builds (label, variations, spec), in any order, and returns them in order.
Builder = Callable[[Sequence[tuple[str, tuple[str, ...], BuildSpec]]], Sequence[BuildRun]]


@dataclass(frozen=True, slots=True, kw_only=True)
class VariationStatus:
    name: str
    description: str
    skipped: str | None = None  #: why it could not run here


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactFinding:
    """What ``vary`` found about one artifact (the sdist or the wheel)."""

    kind: str
    filename: str  #: the control's
    sha256: str  #: the control's
    verdict: str  #: reproducible, different, random, build-failed
    culprits: tuple[tuple[str, ...], ...] = ()
    difference: Difference | None = None  #: control vs experiment, or control vs control
    fixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class VaryReport:
    source: str
    reproducible: bool
    variations: tuple[VariationStatus, ...]
    artifacts: tuple[ArtifactFinding, ...]
    builds: tuple[BuildRun, ...]
    seconds: float
    experiment_error: str = ""


def _run_one(label: str, names: tuple[str, ...], spec: BuildSpec, say: Progress) -> BuildRun:
    from reprobuild._fs import sha256_hex

    started = time.monotonic()
    try:
        result = build(spec, progress=say)
    except ReprobuildError as exc:
        return BuildRun(
            label=label,
            variations=names,
            error=" ".join(str(exc).split("\n")),
            hint=exc.hint or "",
            seconds=time.monotonic() - started,
        )
    artifacts = {}
    digests = {}
    for path in result.paths:
        kind = "wheel" if path.name.endswith(".whl") else "sdist"
        artifacts[kind] = path
        digests[kind] = sha256_hex(path.read_bytes())
    return BuildRun(
        label=label,
        variations=names,
        artifacts=artifacts,
        digests=digests,
        seconds=time.monotonic() - started,
    )


def serial_builder(progress: Progress | None = None) -> Builder:
    """Build one after another in this process, passing each build's steps to ``progress``."""
    say = progress or (lambda _message: None)

    def run(batch: Sequence[tuple[str, tuple[str, ...], BuildSpec]]) -> Sequence[BuildRun]:
        return [_run_one(label, names, spec, say) for label, names, spec in batch]

    return run


def _work(label: str, names: tuple[str, ...], spec: BuildSpec) -> BuildRun:
    return _run_one(label, names, spec, lambda _message: None)


def parallel_builder(jobs: int) -> tuple[Builder, Callable[[], None]]:
    """Build ``jobs`` at a time in worker processes; return the builder and what closes it."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))

    def run(batch: Sequence[tuple[str, tuple[str, ...], BuildSpec]]) -> Sequence[BuildRun]:
        futures = [pool.submit(_work, label, names, spec) for label, names, spec in batch]
        return [future.result() for future in futures]

    return run, lambda: pool.shutdown(wait=True, cancel_futures=True)


def _markers(control: BuildSpec, experiment: BuildSpec) -> dict[str, tuple[str, ...]]:
    """The strings the experiment put into the build, for the fixes to look for."""
    roots = (str(control.build_root), str(experiment.build_root))
    return {
        "build-path": roots,
        "user": (EXPERIMENT_USER,),
        "hostname": (EXPERIMENT_HOST,),
    }


def vary(
    source: Path,
    *,
    cache_dir: Path,
    workdir: Path,
    variations: Sequence[Variation],
    builder: Builder,
    jobs: int = 1,
    clock: int | None = None,
    source_date_epoch: int | None = None,
    build_root: Path = VARY_ROOT,
    progress: Progress | None = None,
) -> VaryReport:
    """Build ``source`` (a project folder or an sdist) under the control and the experiment
    and attribute any difference (see the module's docstring).

    ``workdir`` holds every build's artifacts; ``builder`` runs the builds, ``jobs`` of them
    at a time (with 2 or more, the halving's first build runs beside the second control
    build; with 3 or more, that runs beside the first and the experiment); ``clock`` is the
    control's instant (default: now); ``source_date_epoch`` is exported to every build when
    given (to see whether it fixes what varies).
    """
    say = progress or (lambda _message: None)
    started = time.monotonic()
    source = source.resolve()
    if not source.exists():
        raise UsageError("no such file or folder", path=str(source))
    if source.is_dir():
        try:
            read_build_system(source)
        except ReprobuildError as exc:
            raise exc.with_path(str(source)) from None
        kinds: tuple[str, ...] = ("sdist", "wheel")
    elif source.name.endswith((".tar.gz", ".zip")):
        kinds = ("wheel",)
    else:
        raise UsageError(
            "not a project folder or an sdist", path=str(source), hint="give a folder or a .tar.gz"
        )
    statuses = []
    usable: list[Variation] = []
    for variation in variations:
        reason = variation.available()
        statuses.append(
            VariationStatus(name=variation.name, description=variation.description, skipped=reason)
        )
        if reason is None:
            usable.append(variation)
        else:
            say(f"skipping the variation {variation.name}: {reason}")
    if not usable:
        raise UsageError(
            "none of the variations asked for can run on this machine",
            hint="run 'reprobuild vary --list' to see why",
        )
    instant = int(time.time()) if clock is None else clock
    counter = [0]

    def spec_for(label: str, names: frozenset[str] | Sequence[str]) -> BuildSpec:
        spec = control_spec(
            source,
            outdir=workdir / label,
            cache_dir=cache_dir,
            clock=instant,
            build_root=build_root,
            source_date_epoch=source_date_epoch,
        )
        for variation in usable:
            if variation.name in names:
                spec = variation.apply(spec)
        return spec

    runs: list[BuildRun] = []

    def run(batch: Sequence[tuple[str, Sequence[str]]]) -> list[BuildRun]:
        specs = []
        for label, names in batch:
            counter[0] += 1
            ordered = tuple(v.name for v in usable if v.name in names)
            slug = f"{counter[0]:02d}-{label.split(' ')[0]}"
            what = label if label != "bisect" else "with " + ", ".join(ordered)
            say(f"build {counter[0]}: {what}")
            specs.append((what, ordered, spec_for(slug, ordered)))
        done = list(builder(specs))
        for result in done:
            state = f"failed: {result.error}" if result.error else "done"
            say(f"  {result.label}: {state} ({result.seconds:.1f} s)")
        runs.extend(done)
        return done

    everything = [v.name for v in usable]
    first: list[tuple[str, Sequence[str]]] = [("control", ()), ("experiment", everything)]
    if jobs >= 3:
        first.append(("control again", ()))
    phase = run(first)
    control, experiment = phase[0], phase[1]
    if control.error:
        raise BuildError(
            f"the control build failed: {control.error}", path=str(source), hint=control.hint
        )
    differing = frozenset(k for k in kinds if experiment.signature(k) != control.signature(k))
    again: BuildRun | None = phase[2] if len(phase) > 2 else None
    # builds by the set of variations applied, so that none is built twice
    built: dict[frozenset[str], BuildRun] = {frozenset(everything): experiment}
    halving = len(everything) > 1 and not experiment.error
    if differing and again is None:
        batch: list[tuple[str, Sequence[str]]] = [("control again", ())]
        if jobs >= 2 and halving:  # the halving's first build, while the control repeats
            batch.append(("bisect", everything[: len(everything) // 2]))
        [again, *ahead] = run(batch)
        for result in ahead:
            built[frozenset(result.variations)] = result
    random = frozenset(
        k for k in kinds if again is not None and again.signature(k) != control.signature(k)
    )
    to_explain = differing - random

    def test(sets: Sequence[frozenset[str]]) -> list[frozenset[str]]:
        missing = [s for s in dict.fromkeys(sets) if s not in built]
        results = run([("bisect", sorted(s)) for s in missing])
        for names, result in zip(missing, results, strict=True):
            built[names] = result
        return [
            frozenset(k for k in to_explain if built[s].signature(k) != control.signature(k))
            for s in sets
        ]

    culprits: tuple[Culprit, ...] = ()
    if to_explain and halving:
        culprits = attribute(everything, to_explain, test).culprits
    elif to_explain:
        culprits = (Culprit(variations=tuple(everything), artifacts=to_explain),)
    markers = _markers(spec_for("-", ()), spec_for("-", everything))
    findings = []
    for kind in kinds:
        path = control.artifacts[kind]
        if kind in random and again is not None:
            diff = _difference(path, again.artifacts.get(kind))
            evidence = evidence_of(diff, kind=kind, archive=path.name, markers=markers)
            findings.append(
                ArtifactFinding(
                    kind=kind,
                    filename=path.name,
                    sha256=control.digests[kind],
                    verdict="random",
                    difference=diff,
                    fixes=(random_fix(evidence),),
                )
            )
            continue
        if kind not in differing:
            findings.append(
                ArtifactFinding(
                    kind=kind,
                    filename=path.name,
                    sha256=control.digests[kind],
                    verdict="reproducible",
                )
            )
            continue
        mine = [c for c in culprits if kind in c.artifacts]
        if experiment.error:
            findings.append(
                ArtifactFinding(
                    kind=kind,
                    filename=path.name,
                    sha256=control.digests[kind],
                    verdict="build-failed",
                    culprits=tuple(c.variations for c in mine),
                    fixes=(
                        f"the build fails under the experiment's variations: {experiment.error}",
                    ),
                )
            )
            continue
        diff = _difference(path, experiment.artifacts.get(kind))
        evidence = evidence_of(diff, kind=kind, archive=path.name, markers=markers)
        fixes: list[str] = []
        for culprit in mine:
            # the build with this culprit alone shows what it changes
            alone = next(
                (r for r in runs if r.variations == culprit.variations and kind in r.artifacts),
                None,
            )
            own = evidence
            if alone is not None and alone is not experiment:
                own = evidence_of(
                    _difference(path, alone.artifacts[kind]),
                    kind=kind,
                    archive=path.name,
                    markers=markers,
                )
            for sentence in fixes_for(culprit.variations, own):
                if sentence not in fixes:
                    fixes.append(sentence)
        findings.append(
            ArtifactFinding(
                kind=kind,
                filename=path.name,
                sha256=control.digests[kind],
                verdict="different",
                culprits=tuple(c.variations for c in mine),
                difference=diff,
                fixes=tuple(fixes),
            )
        )
    return VaryReport(
        source=str(source),
        reproducible=not differing,
        variations=tuple(statuses),
        artifacts=tuple(findings),
        builds=tuple(runs),
        seconds=time.monotonic() - started,
        experiment_error=experiment.error,
    )


def _difference(a: Path, b: Path | None) -> Difference | None:
    """What ``diff`` says between two artifacts (None when the second was not made)."""
    if b is None:
        return None
    return compare(
        Item(name=a.name, data=a.read_bytes()),
        Item(name=b.name, data=b.read_bytes()),
        CompareOptions(),
    )


def release_sdist(name: str, version: str, *, client: IndexClient, progress: Progress) -> Path:
    """Download the sdist of release ``name`` ``version`` from the index (cached by digest)."""
    files = release_files(client.project_files(name), name, version)
    if not files:
        raise UsageError(
            f"the index has no files of {name} {version}",
            hint="check the name and version (pip index versions NAME lists them)",
        )
    sdists = [f for f in files if f.filename.endswith((".tar.gz", ".zip"))]
    if not sdists:
        raise UsageError(
            f"{name} {version} has no sdist on the index: there is nothing to build from",
            hint="give a project folder instead",
        )
    progress(f"downloading {sdists[0].filename}")
    return client.download(sdists[0])
