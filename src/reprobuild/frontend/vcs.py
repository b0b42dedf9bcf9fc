"""What a version-control checkout says about a source tree: its commit and that commit's time.

The commit time is the ``SOURCE_DATE_EPOCH`` a build of a checkout defaults to, as the
reproducible-builds specification suggests.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GitCommit", "git_commit_info"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GitCommit:
    commit: str  #: the full hash of HEAD
    time: int  #: its committer time, seconds since the epoch
    dirty: bool  #: tracked files differ from HEAD


def git_commit_info(source: Path) -> GitCommit | None:
    """HEAD of the git checkout ``source`` is the top of, or None (not a checkout, no git)."""
    git = shutil.which("git")
    if git is None or not (source / ".git").exists():
        return None

    def run(*args: str) -> str | None:
        proc = subprocess.run(
            [git, "-C", str(source), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        return proc.stdout.strip() if proc.returncode == 0 else None

    head = run("log", "-1", "--format=%H %ct")
    if not head:
        return None
    commit, _, when = head.partition(" ")
    status = run("status", "--porcelain", "--untracked-files=no")
    return GitCommit(commit=commit, time=int(when), dirty=bool(status))
