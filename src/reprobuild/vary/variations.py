"""The variations ``reprobuild vary`` knows: each a pure ``BuildSpec -> BuildSpec`` transform.

The control is one fixed environment (:func:`control_spec`); a variation moves one thing of it
the way another maintainer's machine, or the same machine another day, would: the clock, the
folder the project is built in, the umask, and so on. The experiment applies them all.

A variation that cannot run on this machine (a tool that is not installed, a namespace the
kernel does not permit) says why in :meth:`Variation.available`, and is left out.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from reprobuild.build import BUILD_ROOT, BuildSpec
from reprobuild.frontend import Sandbox

__all__ = [
    "EXPERIMENT_HOST",
    "EXPERIMENT_USER",
    "TIME_SHIFTS",
    "VARY_ROOT",
    "Variation",
    "control_roots",
    "control_spec",
    "default_variations",
    "select",
]

#: Where the control builds; the build-path variation builds elsewhere.
VARY_ROOT = BUILD_ROOT.with_name("reprobuild-vary")
#: The host name and user name of the experiment, easy to find in a build's output.
EXPERIMENT_HOST = "reprobuild-varied-host"
EXPERIMENT_USER = "reprobuild-varied-user"
#: How far the experiment's clock runs ahead: three days, two hours, two minutes.
CLOCK_SHIFT = 3 * 86400 + 2 * 3600 + 120
#: How much newer the experiment's source files are: 123 days, an hour, a minute, 2 seconds.
SOURCE_TIME_SHIFT = 123 * 86400 + 3600 + 62
#: The experiment's time zone: 14 hours ahead of UTC, a date ahead for most of the day.
EXPERIMENT_ZONE = "Pacific/Kiritimati"
EXPERIMENT_ZONE_POSIX = "<+14>-14"
ZONE_OFFSET = 14 * 3600
#: How far each variation moves a time it reaches (a time written in local time, as a zip
#: records it, moves by the zone's offset). Below a day no two sums of them are the same.
TIME_SHIFTS = {"clock": CLOCK_SHIFT, "source-times": SOURCE_TIME_SHIFT, "timezone": ZONE_OFFSET}


@dataclass(frozen=True, slots=True, kw_only=True)
class Variation:
    """One thing the experiment changes. ``change`` must be pure; ``probe`` returns why the
    variation cannot run on this machine, or None when it can."""

    name: str
    description: str
    change: Callable[[BuildSpec], BuildSpec] = field(repr=False, compare=False)
    probe: Callable[[], str | None] = field(default=lambda: None, repr=False, compare=False)

    def available(self) -> str | None:
        """None when the variation can run here; otherwise the reason it cannot."""
        return self.probe()

    def apply(self, spec: BuildSpec) -> BuildSpec:
        return self.change(spec)


def control_spec(
    source: Path,
    *,
    outdir: Path,
    cache_dir: Path,
    clock: int,
    build_root: Path = VARY_ROOT,
    source_date_epoch: int | None = None,
    sandbox: Sandbox | None = None,
) -> BuildSpec:
    """The control: the project built as a maintainer's own build runs it (no normalization,
    SOURCE_DATE_EPOCH not set unless given), in one fixed environment: the clock stands at
    ``clock`` for every Python process of the build, the source files were written a day
    before, umask 022, UTC, C.UTF-8, PYTHONHASHSEED=1."""
    return BuildSpec(
        source=source,
        outdir=outdir,
        cache_dir=cache_dir,
        source_date_epoch=source_date_epoch if source_date_epoch is not None else clock - 86400,
        source_date_epoch_from="option" if source_date_epoch is not None else "vary",
        export_source_date_epoch=source_date_epoch is not None,
        normalize=False,
        umask=0o022,
        hash_seed="1",
        timezone="UTC",
        locale="C.UTF-8",
        build_root=build_root,
        build_clock=clock,
        sdist_clock=clock,
        sdist_times="members",
        sandbox=sandbox,
    )


def control_roots(root: Path, count: int) -> tuple[Path, ...]:
    """The folders of ``count`` controls that build at the same time (a build folder is
    locked by the build in it): ``root``, then ``root-2``, ``root-3``... A build is compared
    with the control built in its own folder, so the folder never counts as a variation; the
    build-path variation moves a build out of its folder."""
    return (root, *(root.with_name(f"{root.name}-{i}") for i in range(2, count + 1)))


def _shift_clock(faketime: str | None) -> Callable[[BuildSpec], BuildSpec]:
    def change(spec: BuildSpec) -> BuildSpec:
        wrapper = spec.wrapper
        if faketime is not None:
            wrapper = (faketime, "-f", f"+{CLOCK_SHIFT}s", *wrapper)
        return replace(
            spec,
            build_clock=None if spec.build_clock is None else spec.build_clock + CLOCK_SHIFT,
            closing_clock=None if spec.closing_clock is None else spec.closing_clock + CLOCK_SHIFT,
            dist_info_clock=(
                None if spec.dist_info_clock is None else spec.dist_info_clock + CLOCK_SHIFT
            ),
            sdist_clock=None if spec.sdist_clock is None else spec.sdist_clock + CLOCK_SHIFT,
            wrapper=wrapper,
        )

    return change


def _moved_root(spec: BuildSpec) -> BuildSpec:
    root = spec.build_root
    return replace(spec, build_root=root.with_name(root.name + "-elsewhere") / "deeper")


def _other_locale() -> str:
    """A UTF-8 locale other than C.UTF-8 when one is installed, else the C (ASCII) locale."""
    try:
        listed = subprocess.run(
            ["locale", "-a"], capture_output=True, text=True, check=False
        ).stdout.split()
    except OSError:
        listed = []
    wanted = ("fr_FR.utf8", "de_DE.utf8", "tr_TR.utf8", "en_US.utf8", "en_GB.utf8")
    for name in wanted:
        if name in listed:
            return name.replace(".utf8", ".UTF-8")
    return "C"


def _zone() -> str:
    if Path("/usr/share/zoneinfo", EXPERIMENT_ZONE).is_file():
        return EXPERIMENT_ZONE
    return EXPERIMENT_ZONE_POSIX


def _runs(cmd: Sequence[str], what: str) -> str | None:
    """None when ``cmd`` runs and exits 0, else why not (the reason a variation is skipped)."""
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{what}: {exc}"
    if proc.returncode != 0:
        said = proc.stderr.strip().splitlines()
        return f"{what}: {said[-1] if said else f'exit status {proc.returncode}'}"
    return None


def _uts_probe(unshare: str | None) -> Callable[[], str | None]:
    def probe() -> str | None:
        from reprobuild.frontend.sandbox import SandboxError, SandboxMode, choose_sandbox

        with contextlib.suppress(SandboxError):  # bubblewrap names the host itself
            if choose_sandbox(SandboxMode.BWRAP).mode is SandboxMode.BWRAP:
                return None
        if unshare is None:
            return "unshare (util-linux) is not installed"
        return _runs(
            [unshare, "--uts", "--", "sh", "-c", f"hostname {EXPERIMENT_HOST}"],
            "a new UTS namespace is not permitted here",
        )

    return probe


def _cpu_probe(taskset: str | None) -> Callable[[], str | None]:
    def probe() -> str | None:
        if taskset is None:
            return "taskset (util-linux) is not installed"
        if len(os.sched_getaffinity(0)) < 2:
            return "this process may run on one CPU only: there is no other count to try"
        return None

    return probe


def _order_probe(root: Path) -> str | None:
    """None when a folder on the file system of ``root`` lists files in the order they were
    created (tmpfs does; ext4 and xfs list them in an order of their names' hashes)."""
    parent = root.parent
    try:
        with tempfile.TemporaryDirectory(dir=parent) as folder:
            names = [f"f{i:02d}" for i in range(16)]
            listings = []
            for order in (names, names[::-1]):
                sub = Path(folder, "reversed" if order[0] != names[0] else "sorted")
                sub.mkdir()
                for name in order:
                    (sub / name).touch()
                listings.append([p.name for p in sub.iterdir()])
    except OSError as exc:
        return f"cannot try the file system of {parent}: {exc}"
    if listings[0] == listings[1]:
        return (
            f"the file system of {parent} lists a folder in the same order whatever the order "
            "its files were created in, so creating them in another order changes nothing"
        )
    return None


def default_variations(root: Path = VARY_ROOT) -> tuple[Variation, ...]:
    """Every variation, in the order the report lists them (``root``: the control's build
    folder, whose file system the file-order variation depends on)."""
    faketime = shutil.which("faketime")
    unshare = shutil.which("unshare")
    taskset = shutil.which("taskset")
    clock_how = (
        "the clock of every process of the build (faketime)"
        if faketime
        else "the clock of the build's Python processes (faketime is not installed)"
    )
    locale = _other_locale()
    zone = _zone()
    return (
        Variation(
            name="clock",
            description=f"{clock_how} runs 3 days, 2 hours and 2 minutes ahead; "
            "SOURCE_DATE_EPOCH stays as in the control",
            change=_shift_clock(faketime),
        ),
        Variation(
            name="build-path",
            description="the project is copied, and its sdist unpacked, in another folder",
            change=_moved_root,
        ),
        Variation(
            name="working-folder",
            description="TMPDIR, where a backend writes its intermediate files, is another folder",
            change=lambda spec: replace(spec, tmp_folder="scratch/varied-tmp"),
        ),
        Variation(
            name="umask",
            description="umask 077 instead of 022",
            change=lambda spec: replace(spec, umask=0o077),
        ),
        Variation(
            name="timezone",
            description=f"TZ={zone} (UTC+14) instead of UTC",
            change=lambda spec: replace(spec, timezone=zone),
        ),
        Variation(
            name="locale",
            description=f"LC_ALL and LANG {locale} instead of C.UTF-8",
            change=lambda spec: replace(spec, locale=locale),
        ),
        Variation(
            name="hash-seed",
            description="PYTHONHASHSEED=2 instead of 1",
            change=lambda spec: replace(spec, hash_seed="2"),
        ),
        Variation(
            name="source-times",
            description="the source files are 123 days newer (a fresh checkout's times)",
            change=lambda spec: replace(
                spec, source_time_offset=spec.source_time_offset + SOURCE_TIME_SHIFT
            ),
        ),
        Variation(
            name="file-order",
            description="the source files are created in reverse order, so a folder lists "
            "them in another order",
            change=lambda spec: replace(spec, creation_order="reversed"),
            probe=lambda: _order_probe(root),
        ),
        Variation(
            name="user-home",
            description=f"USER and LOGNAME {EXPERIMENT_USER}, and HOME another folder",
            change=lambda spec: replace(
                spec,
                home_folder="home-of-" + EXPERIMENT_USER,
                extra_env={**spec.extra_env, "USER": EXPERIMENT_USER, "LOGNAME": EXPERIMENT_USER},
            ),
        ),
        Variation(
            name="hostname",
            description=f"the host name is {EXPERIMENT_HOST} (a new UTS namespace)",
            change=lambda spec: replace(spec, hostname=EXPERIMENT_HOST),
            probe=_uts_probe(unshare),
        ),
        Variation(
            name="cpu-count",
            description="the build may use one CPU only (its affinity)",
            change=lambda spec: replace(
                spec, wrapper=(taskset or "taskset", "--cpu-list", "0", *spec.wrapper)
            ),
            probe=_cpu_probe(taskset),
        ),
        Variation(
            name="environment",
            description="extra variables a shell has: TERM, COLUMNS, EDITOR, and one of "
            "reprobuild's own",
            change=lambda spec: replace(
                spec,
                extra_env={
                    **spec.extra_env,
                    "TERM": "xterm-256color",
                    "COLUMNS": "123",
                    "EDITOR": "vi",
                    "REPROBUILD_VARIED": "1",
                },
            ),
        ),
    )


def select(
    variations: Sequence[Variation], only: Sequence[str] = (), skip: Sequence[str] = ()
) -> tuple[Variation, ...]:
    """The variations named in ``only`` (all when empty), less those named in ``skip``.

    Raises ValueError naming an unknown variation."""
    known = {v.name for v in variations}
    unknown = sorted((set(only) | set(skip)) - known)
    if unknown:
        raise ValueError(
            f"no variation called {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return tuple(v for v in variations if (not only or v.name in only) and v.name not in set(skip))
