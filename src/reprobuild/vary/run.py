"""``vary``: build a project under the control and under every variation, and name the cause.

1. The control and the experiment (every variation at once) are built. When the experiment
   gives the control's bytes, the project is reproducible under every variation.
2. An artifact whose control builds differ is random on its own: no variation can be blamed
   for it, and the report names its differing members. Two builds that should agree and do
   (a second control, or a build whose variations leave the artifact alone) show that it is
   not; when none does, the control is built again to tell.
3. For the others, :func:`~reprobuild.vary.attribute.attribute` splits the set of variations
   until it has the culprits, trying first the suspects the difference points to
   (:func:`~reprobuild.vary.fixes.suspects`); each artifact's difference (from ``diff``) and
   the culprits give the fixes (:mod:`reprobuild.vary.fixes`).

Builds run one after another, or ``jobs`` at a time in worker processes (a build sets its
process's umask). A build folder holds one build at a time (it is locked), so with several
jobs the builds go to several folders (:func:`~reprobuild.vary.variations.control_roots`),
each with a control of its own that its builds are compared with; a second folder is used
when it saves a round of builds, and its control is then a repeat of the control as well.

The pins each set of build requirements resolved to in the first builds are installed by the
later ones, which do not resolve them again: every build of a run gets the same environment,
even if a release appears on the index meanwhile. No variation reaches the resolution (it runs
in reprobuild's own process, not in the build's environment); each build still asks its
backend for its requirements, under its own variations, and a set no earlier build resolved is
resolved.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from reprobuild._types import JSONValue
from reprobuild.archive import load_archive
from reprobuild.build import BuildSpec, Progress, build, home_of
from reprobuild.compare import CompareOptions, Item, compare
from reprobuild.compare.difference import Difference
from reprobuild.errors import BuildError, ReprobuildError, UsageError
from reprobuild.frontend import PinnedRequirement, Sandbox, default_sandbox, read_build_system
from reprobuild.index import IndexClient, release_files
from reprobuild.vary.attribute import Culprit, attribute, first_sets
from reprobuild.vary.fixes import evidence_of, fixes_for, random_fix, suspects
from reprobuild.vary.variations import (
    EXPERIMENT_HOST,
    EXPERIMENT_USER,
    TIME_SHIFTS,
    VARY_ROOT,
    Variation,
    control_roots,
    control_spec,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

__all__ = [
    "ArtifactFinding",
    "BuildRun",
    "Builder",
    "Resolver",
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
    #: the requirement sets of its environments, with their pins (see ``BuildSpec.resolved``)
    resolved: Mapping[tuple[str, ...], tuple[PinnedRequirement, ...]] = field(default_factory=dict)

    def signature(self, kind: str) -> str:
        """What two builds must share for ``kind`` to be the same: file name and sha256."""
        if kind not in self.artifacts:
            return "build-failed" if self.error else "missing"
        return f"{self.artifacts[kind].name} {self.digests[kind]}"


#: Runs a batch of builds (label, variations, spec), in any order, and returns them in order.
Builder = Callable[[Sequence[tuple[str, tuple[str, ...], BuildSpec]]], Sequence[BuildRun]]

#: Pins a set of build requirements (as :func:`reprobuild.frontend.resolve_requirements`).
Resolver = Callable[[Sequence[str]], Sequence[PinnedRequirement]]


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
    #: the sandbox every build ran in (:meth:`Sandbox.to_json`)
    sandbox: Mapping[str, JSONValue] = field(default_factory=dict)


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
        resolved=dict(result.resolved),
    )


def serial_builder(progress: Progress | None = None) -> Builder:
    """Build one after another in this process, passing each build's steps to ``progress``."""
    say = progress or (lambda _message: None)

    def run(batch: Sequence[tuple[str, tuple[str, ...], BuildSpec]]) -> Sequence[BuildRun]:
        done = []
        for label, names, spec in batch:
            say(f"  {label}: started")
            done.append(_run_one(label, names, spec, say))
        return done

    return run


def _work(label: str, names: tuple[str, ...], spec: BuildSpec) -> BuildRun:
    try:
        return _run_one(label, names, spec, lambda _message: None)
    except SystemExit as exc:  # stopped (see _start_worker): the build has cleaned up; go now
        import os

        os._exit(exc.code if isinstance(exc.code, int) else 1)


def _ready() -> None:
    """Nothing: run once in each new worker, so that it starts, and imports this module, while
    the caller is still getting the first builds ready."""


def _start_worker() -> None:
    """Run first in each worker: it leads a process group of its own, with the builds it starts,
    so that an interruption (Ctrl-C reaches the terminal's foreground group) stops it only
    through :func:`_stop_workers`, after the caller has stopped handing out builds; and
    SIGTERM ends it through Python, whose ``finally`` clauses leave no half-written file."""
    import os
    import signal

    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, _exit_on_signal)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _stop_workers(processes: Sequence[BaseProcess]) -> None:
    """Stop ``processes`` (workers started by :func:`_start_worker`) and the builds they run:
    SIGTERM to each one's process group, then SIGKILL to a group whose worker is still there
    after a few seconds."""
    import os
    import signal

    def send(process: BaseProcess, signum: int) -> None:
        if process.pid is None:
            return
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:  # not a group leader yet (or gone): the worker alone
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signum)

    for process in processes:
        send(process, signal.SIGTERM)
    deadline = time.monotonic() + 5
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0))
    for process in processes:
        if process.is_alive():
            send(process, signal.SIGKILL)
            process.join()


def parallel_builder(
    jobs: int, progress: Progress | None = None
) -> tuple[Builder, Callable[[], None]]:
    """Build ``jobs`` at a time in worker processes; return the builder and what closes it.
    ``progress`` is told when each build is handed to a worker (not its steps: they would
    interleave).

    A build starts only when no running build uses its build folder (it would wait for the
    folder's lock, holding a worker that another build could use). When a batch is left by
    an exception (an interruption, or a bug), the workers are stopped with the builds they
    run before it propagates: a caller that then removes the builds' output folder does not
    race a build still writing into it."""
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    from reprobuild.executors import first_done

    say = progress or (lambda _message: None)
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
    )
    for _ in range(jobs):  # a worker starts when a task finds none idle
        pool.submit(_ready)

    def run(batch: Sequence[tuple[str, tuple[str, ...], BuildSpec]]) -> Sequence[BuildRun]:
        done: dict[int, BuildRun] = {}
        waiting = list(range(len(batch)))
        running: dict[Future[BuildRun], int] = {}
        try:
            while waiting or running:
                busy = {batch[i][2].build_root for i in running.values()}
                for i in list(waiting):
                    label, names, spec = batch[i]
                    if len(running) >= jobs:
                        break
                    if spec.build_root in busy:
                        continue
                    running[pool.submit(_work, label, names, spec)] = i
                    say(f"  {label}: started")
                    busy.add(spec.build_root)
                    waiting.remove(i)
                for future in first_done(running):
                    done[running.pop(future)] = future.result()
        except BaseException:
            for future in running:
                future.cancel()
            # the executor's own table of its workers: it has no public way to stop a task
            _stop_workers(list((pool._processes or {}).values()))
            raise
        return [done[i] for i in range(len(batch))]

    return run, lambda: pool.shutdown(wait=True, cancel_futures=True)


def _markers(specs: Sequence[BuildSpec]) -> dict[str, tuple[str, ...]]:
    """The strings the builds put into what they built, for the fixes to look for: the build
    folders (``specs``: the controls' and the experiment's), the experiment's TMPDIR and
    HOME (``specs[-1]``), its user and its host name."""
    experiment = specs[-1]
    home = home_of(experiment)
    return {
        "build-path": tuple(dict.fromkeys(str(s.build_root) for s in specs)),
        "working-folder": (str(home / experiment.tmp_folder),),
        "user-home": (str(home), EXPERIMENT_USER),
        "user": (EXPERIMENT_USER,),
        "hostname": (EXPERIMENT_HOST,),
    }


class _Builds:
    """The builds of one run of ``vary``: each made in one of the control folders and compared
    with the control built there (see the module's docstring)."""

    def __init__(
        self,
        *,
        spec_for: Callable[[str, Sequence[str], Path], BuildSpec],
        builder: Builder,
        folders: Sequence[Path],
        order: Sequence[str],
        jobs: int,
        say: Progress,
    ) -> None:
        self._spec_for = spec_for
        self._builder = builder
        self._order = {name: i for i, name in enumerate(order)}
        self._say = say
        self.folders = tuple(folders)
        self.jobs = jobs
        self.runs: list[BuildRun] = []
        self.folder_of: list[Path] = []  #: the folder of each run
        self.controls: dict[Path, BuildRun] = {}  #: the control of each folder used
        self.again: BuildRun | None = None  #: the control built again in the first folder
        self.by_set: dict[frozenset[str], int] = {}  #: a set of variations -> its run
        #: the pins of each requirement set, from the first builds
        self.resolved: dict[tuple[str, ...], tuple[PinnedRequirement, ...]] = {}

    def build(self, batch: Sequence[tuple[str, Sequence[str], Path]]) -> list[BuildRun]:
        """Build each (label, variations, folder); "bisect" builds are remembered by set."""
        tasks: list[tuple[str, tuple[str, ...], BuildSpec]] = []
        for label, names, folder in batch:
            number = len(self.runs) + len(tasks) + 1
            ordered = tuple(sorted(names, key=self._order.__getitem__))
            what = label if label != "bisect" else "with " + ", ".join(ordered)
            if folder != self.folders[0]:
                what += f" (in {folder.name})"
            self._say(f"build {number}: {what}")
            spec = self._spec_for(f"{number:02d}-{label.split(' ')[0]}", ordered, folder)
            tasks.append((what, ordered, replace(spec, resolved=dict(self.resolved))))
        done = list(self._builder(tasks))
        for (label, names, folder), result in zip(batch, done, strict=True):
            state = f"failed: {result.error}" if result.error else "done"
            self._say(f"  {result.label}: {state} ({result.seconds:.1f} s)")
            self.runs.append(result)
            self.folder_of.append(folder)
            if label == "bisect":
                self.by_set[frozenset(names)] = len(self.runs) - 1
            elif label == "control again":
                self.again = result
            elif label == "control":
                self.controls.setdefault(folder, result)
        for folder in self.folders[1:]:
            control = self.controls.get(folder)
            if control is not None and control.error:
                # its builds cannot be compared with anything: built again in other folders
                self._say(f"not building in {folder.name} again: its control failed")
                self.folders = tuple(f for f in self.folders if f != folder)
                del self.controls[folder]
                self.by_set = {s: i for s, i in self.by_set.items() if self.folder_of[i] != folder}
        return done

    def changed(self, index: int, kinds: frozenset[str]) -> frozenset[str]:
        """The artifacts of ``kinds`` that run ``index`` made other than its folder's control."""
        run, control = self.runs[index], self.controls[self.folder_of[index]]
        return frozenset(k for k in kinds if run.signature(k) != control.signature(k))

    def agreed(self, kind: str) -> bool:
        """Whether two builds that should make the same ``kind`` did: the control and a
        control in another folder, or the control again; a build and its folder's control.
        A build random on its own would not make the same bytes twice."""
        first = self.controls[self.folders[0]]
        repeats = [c for f, c in self.controls.items() if f != self.folders[0]]
        if self.again is not None:
            repeats.append(self.again)
        if any(c.signature(kind) == first.signature(kind) for c in repeats):
            return True
        return any(not self.changed(i, frozenset({kind})) for i in self.by_set.values())

    def test(self, sets: Sequence[frozenset[str]], kinds: frozenset[str]) -> list[frozenset[str]]:
        """Build the sets not built yet; for each set, the artifacts of ``kinds`` it changes."""
        while missing := [s for s in dict.fromkeys(sets) if s not in self.by_set]:
            self.build(self.place(missing))
        return [self.changed(self.by_set[s], kinds) for s in sets]

    def place(self, sets: Sequence[frozenset[str]]) -> list[tuple[str, Sequence[str], Path]]:
        """The batch that builds ``sets`` in the fewest rounds of ``jobs`` builds: each set goes
        to the folder with the fewest builds of its kind in the batch (a set with the build-path
        variation is built outside its folder, so it does not wait for that folder); another
        folder, with its control, is taken when that makes fewer rounds."""
        ready = [f for f in self.folders if f in self.controls]
        spare = [f for f in self.folders if f not in self.controls]
        best: tuple[tuple[int, int], list[tuple[str, Sequence[str], Path]]] | None = None
        for extra in range(len(spare) + 1):
            folders = ready + spare[:extra]
            load = Counter({(f, False): 1 for f in spare[:extra]})
            batch: list[tuple[str, Sequence[str], Path]] = [
                ("control", (), f) for f in spare[:extra]
            ]
            for names in sets:
                moved = "build-path" in names
                folder = min(folders, key=lambda f: load[(f, moved)])
                load[(folder, moved)] += 1
                batch.append(("bisect", tuple(names), folder))
            rounds = max(-(-len(batch) // self.jobs), *load.values())
            if best is None or (rounds, len(batch)) < best[0]:
                best = ((rounds, len(batch)), batch)
        assert best is not None
        return best[1]


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
    resolver: Resolver | None = None,
    progress: Progress | None = None,
    sandbox: Sandbox | None = None,
) -> VaryReport:
    """Build ``source`` (a project folder or an sdist) under the control and the experiment
    and attribute any difference (see the module's docstring).

    ``workdir`` holds every build's artifacts; ``builder`` runs the builds, ``jobs`` of them
    at a time (the control and the experiment together; with 3 or more, a control in a second
    folder beside them); ``clock`` is the control's instant (default: now); ``build_root`` the
    control's folder (others are named after it); ``source_date_epoch`` is exported to every
    build when given (to see whether it fixes what varies). ``resolver`` pins a project
    folder's build requirements once, here, for every build (while a parallel builder's
    workers start); without it, the first builds resolve them. Every build runs in
    ``sandbox`` (default: the best this machine has; none is an error).
    """
    say = progress or (lambda _message: None)
    sandbox = sandbox if sandbox is not None else default_sandbox()
    started = time.monotonic()
    source = source.resolve()
    if not source.exists():
        raise UsageError("no such file or folder", path=str(source))
    requires: tuple[str, ...] = ()
    if source.is_dir():
        try:
            requires = read_build_system(source).requires
        except ReprobuildError as exc:
            raise exc.with_path(str(source)) from None
        kinds: tuple[str, ...] = ("sdist", "wheel")
    elif source.name.endswith((".tar.gz", ".zip")):
        try:  # an sdist that cannot be read is bad input, not a failed build
            load_archive(source, identical_duplicates=True)
        except ReprobuildError as exc:
            raise exc.with_path(str(source)) from None
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
    resolved: dict[tuple[str, ...], tuple[PinnedRequirement, ...]] = {}
    if resolver is not None and requires:
        say(f"resolving the build requirements for every build: {', '.join(requires)}")
        resolved[requires] = tuple(resolver(requires))

    def spec_for(slug: str, names: Sequence[str], folder: Path) -> BuildSpec:
        spec = control_spec(
            source,
            outdir=workdir / slug,
            cache_dir=cache_dir,
            clock=instant,
            build_root=folder,
            source_date_epoch=source_date_epoch,
            sandbox=sandbox,
        )
        for variation in usable:
            if variation.name in names:
                spec = variation.apply(spec)
        return spec

    everything = tuple(v.name for v in usable)
    folders = control_roots(build_root, max(jobs, 1))
    builds = _Builds(
        spec_for=spec_for, builder=builder, folders=folders, order=everything, jobs=jobs, say=say
    )
    builds.resolved = resolved
    first: list[tuple[str, Sequence[str], Path]] = [
        ("control", (), folders[0]),
        ("experiment", everything, folders[0]),
    ]
    if jobs >= 3:  # a slot to spare: the control in a second folder
        first.append(("control", (), folders[1]))
    control, experiment, *_ = builds.build(first)
    if control.error:
        raise BuildError(
            f"the control build failed: {control.error}", path=str(source), hint=control.hint
        )
    differing = frozenset(k for k in kinds if experiment.signature(k) != control.signature(k))
    markers = _markers(
        [spec_for("-", (), f) for f in folders] + [spec_for("-", everything, folders[0])]
    )
    diffs = {k: _difference(control.artifacts[k], experiment.artifacts.get(k)) for k in differing}
    evidence = {
        kind: evidence_of(diff, kind=kind, archive=control.artifacts[kind].name, markers=markers)
        for kind, diff in diffs.items()
    }
    searching = len(everything) > 1 and not experiment.error
    random: frozenset[str] = frozenset()
    if differing:
        builds.resolved = {**experiment.resolved, **control.resolved, **resolved}
        suspected = frozenset().union(*(suspects(evidence[k], TIME_SHIFTS) for k in differing))
        ahead = first_sets(everything, suspected) if searching else ()
        if len(ahead) > 1:  # the suspects alone and the others together, at once
            builds.build(builds.place([frozenset(s) for s in ahead]))
        elif not all(builds.agreed(k) for k in differing):
            # nothing points to a variation: randomness may; with a folder to spare, its
            # control is built beside the control again, for the halving to use
            spare = [f for f in folders[1:2] if f not in builds.controls and searching]
            builds.build([("control again", (), folders[0]), *(("control", (), f) for f in spare)])
        if not all(builds.agreed(k) for k in differing) and builds.again is None:
            builds.build([("control again", (), folders[0])])
        again = builds.again
        if again is not None:
            random = frozenset(k for k in differing if again.signature(k) != control.signature(k))
    to_explain = differing - random
    culprits: tuple[Culprit, ...] = ()
    if to_explain and searching:
        culprits = attribute(
            everything,
            to_explain,
            lambda sets: builds.test(sets, to_explain),
            suspects=frozenset().union(*(suspects(evidence[k], TIME_SHIFTS) for k in to_explain)),
            width=jobs,
        ).culprits
    elif to_explain:
        culprits = (Culprit(variations=everything, artifacts=to_explain),)
    findings = []
    for kind in kinds:
        path = control.artifacts[kind]
        if kind in random and builds.again is not None:
            diff = _difference(
                path, builds.again.artifacts.get(kind), labels=("control", "control-again")
            )
            found = evidence_of(diff, kind=kind, archive=path.name, markers=markers)
            findings.append(
                ArtifactFinding(
                    kind=kind,
                    filename=path.name,
                    sha256=control.digests[kind],
                    verdict="random",
                    difference=diff,
                    fixes=(random_fix(found),),
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
        diff = diffs[kind]
        fixes: list[str] = []
        for culprit in mine:
            # the build with this culprit alone shows what it changes
            own = evidence[kind]
            index = builds.by_set.get(frozenset(culprit.variations))
            if index is not None and kind in builds.runs[index].artifacts:
                own = evidence_of(
                    _difference(
                        builds.controls[builds.folder_of[index]].artifacts[kind],
                        builds.runs[index].artifacts[kind],
                    ),
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
        builds=tuple(builds.runs),
        seconds=time.monotonic() - started,
        experiment_error=experiment.error,
        sandbox=sandbox.to_json(),
    )


def _difference(
    a: Path, b: Path | None, labels: tuple[str, str] = ("control", "experiment")
) -> Difference | None:
    """What ``diff`` says between two artifacts (None when the second was not made), the
    sides named by ``labels`` in its unified diffs and comments."""
    if b is None:
        return None
    return compare(
        Item(name=a.name, data=a.read_bytes()),
        Item(name=b.name, data=b.read_bytes()),
        CompareOptions(labels=labels),
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
