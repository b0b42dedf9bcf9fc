"""The build clock shim: installed as ``sitecustomize`` in a build that replays a clock.

A wheel built without ``SOURCE_DATE_EPOCH`` carries the publisher's clock in the files its
build wrote (metadata, RECORD) while the files it copied from the sdist keep the sdist's
times. To rebuild it, reprobuild replays that one instant: with this file first on
``PYTHONPATH`` as ``sitecustomize.py``, every Python process of the build

- reads ``REPROBUILD_BUILD_CLOCK`` (whole seconds since the epoch) as the time: ``time.time``,
  ``time.time_ns``, and ``localtime``, ``gmtime``, ``ctime`` and ``strftime`` without a time;
  or ``REPROBUILD_BUILD_CLOCK_READS`` when set (the publisher's clock at the end of its build,
  which the wheel's writer stamped RECORD with), the files still written at the first;
- sees the files written since ``REPROBUILD_BUILD_CLOCK_SINCE`` (the real time the build
  started) as written at that instant: ``os.stat``, ``os.lstat`` and ``os.fstat`` report it as
  their modification, access and change times. Older files (the unpacked sdist, the build
  environment) are reported as they are;
- when ``REPROBUILD_BUILD_CLOCK_DIST_INFO`` is set (the later time at which the publisher's
  build wrote its ``.dist-info`` files), sees the files written since then inside a
  ``.dist-info`` folder or setuptools' install tree (``build/bdist.<platform>/wheel``) as
  written at that time: METADATA, WHEEL, the license files and a namespace package's
  ``-nspkg.pth``, which bdist_wheel writes after the egg-info files it copies in with their
  times (``os.utime`` given a time of this build sets the instant instead: ``shutil.copytree``
  copies the times of directory entries, whose stat this shim does not see);
- when ``REPROBUILD_BUILD_CLOCK_KEPT`` names a JSON file mapping absolute paths to
  ``[sha256, size, time]``, such a file written again during the build with the same bytes
  is reported at that time: the sdist's egg-info, which a publisher's single
  ``setup.py sdist bdist_wheel`` run wrote once, before the sdist was made.

The clock stands still, so the result does not depend on how fast this machine builds.

This file runs in the build's interpreter, which may be any CPython from 3.6, so it uses only
syntax and modules that 3.6 has. reprobuild never imports it; it copies it.
"""

import hashlib
import json
import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _install(
    clock: int, since: float, kept: "dict[str, list[Any]]", now: int, dist_info: "int | None"
) -> None:
    real_localtime = time.localtime
    real_gmtime = time.gmtime
    real_ctime = time.ctime
    real_strftime = time.strftime

    def fake_time() -> float:
        return float(now)

    def fake_time_ns() -> int:
        return now * 1000000000

    def fake_localtime(secs: "float | None" = None) -> time.struct_time:
        return real_localtime(now if secs is None else secs)

    def fake_gmtime(secs: "float | None" = None) -> time.struct_time:
        return real_gmtime(now if secs is None else secs)

    def fake_ctime(secs: "float | None" = None) -> str:
        return real_ctime(now if secs is None else secs)

    def fake_strftime(format: str, t: "Any" = None) -> str:
        return real_strftime(format, real_localtime(now) if t is None else t)

    setattr(time, "time", fake_time)  # noqa: B010 (assigning would not type-check)
    if hasattr(time, "time_ns"):
        setattr(time, "time_ns", fake_time_ns)  # noqa: B010
    setattr(time, "localtime", fake_localtime)  # noqa: B010
    setattr(time, "gmtime", fake_gmtime)  # noqa: B010
    setattr(time, "ctime", fake_ctime)  # noqa: B010
    setattr(time, "strftime", fake_strftime)  # noqa: B010

    def kept_time(args: "tuple[Any, ...]", kwargs: "dict[str, Any]") -> "int | None":
        if not kept or not args or isinstance(args[0], int) or kwargs.get("dir_fd") is not None:
            return None
        try:
            path = os.path.abspath(os.fsdecode(os.fspath(args[0])))  # noqa: PTH100
        except TypeError:
            return None
        entry = kept.get(path)
        if entry is None:
            return None
        digest, size, when = entry
        try:
            with open(path, "rb") as file:  # noqa: PTH123 (pathlib would stat through us)
                data = file.read(size + 1)
        except OSError:
            return None
        same = len(data) == size and hashlib.sha256(data).hexdigest() == digest
        return int(when) if same else None

    def path_of(args: "tuple[Any, ...]", kwargs: "dict[str, Any]") -> "str | None":
        if not args or kwargs.get("dir_fd") is not None:
            return None
        try:
            if isinstance(args[0], int):
                return os.readlink(f"/proc/self/fd/{args[0]}")  # noqa: PTH115 (3.6 has no Path.readlink)
            return os.path.abspath(os.fsdecode(os.fspath(args[0])))  # noqa: PTH100
        except (OSError, TypeError):
            return None

    def in_bdist_tree(path: str) -> bool:
        parts = path.split(os.sep)  # noqa: PTH206 (pathlib stays out of the shim)
        return any(
            part.startswith("bdist.") and parts[i + 1] == "wheel"
            for i, part in enumerate(parts[:-2])
        )

    def written_at(args: "tuple[Any, ...]", kwargs: "dict[str, Any]") -> int:
        if dist_info is not None:
            path = path_of(args, kwargs)
            if path is not None and (".dist-info" + os.sep in path or in_bdist_tree(path)):
                return dist_info
        return clock

    def shifted(result: os.stat_result, when: int = clock) -> os.stat_result:
        state: Any = result.__reduce__()[1]
        fields = list(state[0])
        fields[7] = fields[8] = fields[9] = when  # st_atime, st_mtime, st_ctime
        extra = dict(state[1])
        for name in ("st_atime", "st_mtime", "st_ctime"):
            extra[name] = float(when)
            extra[name + "_ns"] = when * 1000000000
        return os.stat_result(fields, extra)

    class Stat:
        """A stat function reporting the replayed clock. An object, not a function, so that
        ``pathlib`` (3.6 to 3.10), which keeps ``os.stat`` as a class attribute, does not bind
        it as a method."""

        def __init__(self, real: "Callable[..., os.stat_result]") -> None:
            self.real = real
            self.__name__ = getattr(real, "__name__", "stat")
            self.__doc__ = real.__doc__

        def __call__(self, *args: "Any", **kwargs: "Any") -> os.stat_result:
            result = self.real(*args, **kwargs)
            if result.st_mtime < since:
                return result
            when = kept_time(args, kwargs)
            return shifted(result, written_at(args, kwargs) if when is None else when)

    for name in ("stat", "lstat", "fstat"):
        setattr(os, name, Stat(getattr(os, name)))
    if dist_info is not None:
        real_utime = os.utime

        def utime(path: "Any", times: "Any" = None, **kwargs: "Any") -> None:
            # shutil.copytree copies the times of os.scandir's entries, whose stat this shim
            # does not see: a time of this build is given the instant it is reported at,
            # so an egg-info file copied into .dist-info keeps the egg-info's time
            ns = kwargs.get("ns")
            if ns is not None and ns[1] >= since * 1e9:
                kwargs["ns"] = (clock * 1000000000, clock * 1000000000)
            elif times is not None and times[1] >= since:
                times = (clock, clock)
            if times is None:
                real_utime(path, **kwargs)
            else:
                real_utime(path, times, **kwargs)

        setattr(os, "utime", utime)  # noqa: B010


def _from_environment() -> None:
    try:
        clock = int(os.environ["REPROBUILD_BUILD_CLOCK"])
        since = float(os.environ["REPROBUILD_BUILD_CLOCK_SINCE"])
        now = int(os.environ.get("REPROBUILD_BUILD_CLOCK_READS", clock))
        later = os.environ.get("REPROBUILD_BUILD_CLOCK_DIST_INFO")
        dist_info = int(later) if later else None
    except (KeyError, ValueError):
        return
    kept = {}
    listing = os.environ.get("REPROBUILD_BUILD_CLOCK_KEPT")
    if listing:
        with open(listing, encoding="utf-8") as file:  # noqa: PTH123
            kept = json.load(file)
    _install(clock, since, kept, now, dist_info)


if __name__ == "sitecustomize":
    _from_environment()
