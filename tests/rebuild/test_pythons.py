"""The Python a rebuild runs on: the wanted one when a provider has it, else the substitution
with the reason; offline, with providers and a rebuilder that build nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

from reprobuild.build import BuildResult, BuildSpec, Progress
from reprobuild.buildinfo import BuildOutput
from reprobuild.frontend import Interpreter, ProvidedPython
from reprobuild.rebuild import Verdict
from reprobuild.rebuild.pythons import with_wanted_python
from reprobuild.strategy import Evidence, Recipe
from tests.factories import make_sdist, make_wheel
from tests.rebuild.offline import verify_demo

HERE = Interpreter(
    executable=Path("/usr/bin/python3.11"), implementation="cpython", version="3.11.7", base="/usr"
)
SUBSTITUTED = Recipe(
    python="3.11.7",
    wanted_python="3.8",
    evidence=(
        Evidence(field="wanted_python", value="3.8", reason="the newest CPython at 2020-01-01"),
        Evidence(
            field="python",
            value="3.11.7",
            reason="this machine has no Python 3.8: the nearest is 3.11.7 (a substitution)",
        ),
    ),
)


class Provider:
    """Gives CPython ``minor``.0 for the versions in ``have``; says ``why`` for the others."""

    def __init__(
        self, have: tuple[str, ...] = (), why: str = "uv python install 3.8 failed"
    ) -> None:
        self.have = have
        self.why = why
        self.asked: list[str] = []

    def __call__(self, minor: str) -> ProvidedPython:
        self.asked.append(minor)
        if minor not in self.have:
            return ProvidedPython(interpreter=None, how=self.why)
        found = Interpreter(
            executable=Path(f"/uv/cpython-{minor}/bin/python{minor}"),
            implementation="cpython",
            version=f"{minor}.0",
            base=f"/uv/cpython-{minor}",
        )
        return ProvidedPython(interpreter=found, how=f"installed by uv (uv python install {minor})")


def _python_reason(recipe: Recipe) -> str:
    (said,) = [e for e in recipe.evidence if e.field == "python"]
    return said.reason


def test_the_wanted_python_replaces_the_substitution() -> None:
    said: list[str] = []
    recipe, pythons = with_wanted_python(SUBSTITUTED, (HERE,), Provider(("3.8",)), said.append)
    assert recipe.python == "3.8.0"
    assert [p.version for p in pythons] == ["3.11.7", "3.8.0"]
    assert _python_reason(recipe) == (
        "this machine has no Python 3.8 on PATH: CPython 3.8.0, installed by uv "
        "(uv python install 3.8)"
    )
    assert said and "3.8" in said[0]


def test_without_it_the_substitution_stays_and_says_why() -> None:
    provider = Provider(why="uv python install 3.8 failed (exit status 1): no network")
    recipe, pythons = with_wanted_python(SUBSTITUTED, (HERE,), provider, print)
    assert recipe.python == "3.11.7"
    assert pythons == (HERE,)
    assert _python_reason(recipe) == (
        "this machine has no Python 3.8: the nearest is 3.11.7 (a substitution); "
        "uv python install 3.8 failed (exit status 1): no network"
    )


def test_a_python_the_machine_has_asks_nothing() -> None:
    provider = Provider(("3.11",))
    exact = Recipe(python="3.11.7", wanted_python="3.11")
    assert with_wanted_python(exact, (HERE,), provider, print) == (exact, (HERE,))
    assert with_wanted_python(SUBSTITUTED, (HERE,), None, print) == (SUBSTITUTED, (HERE,))
    assert provider.asked == []


def test_a_version_found_earlier_is_added_to_the_pythons_and_its_evidence_kept() -> None:
    """An sdist's recipe inherits the wheel's Python, which an earlier answer gave."""
    inherited = Recipe(
        python="3.8.0",
        wanted_python="3.8",
        evidence=(Evidence(field="python", value="3.8.0", reason="from the wheel: uv's"),),
    )
    recipe, pythons = with_wanted_python(inherited, (HERE,), Provider(("3.8",)), print)
    assert recipe == inherited
    assert [p.version for p in pythons] == ["3.11.7", "3.8.0"]


def test_the_rebuild_runs_on_the_interpreter_provided(tmp_path: Path) -> None:
    wheel = make_wheel(mtime={"demo/__init__.py": (2020, 1, 1, 0, 0, 0)})
    (tmp_path / "demo-1.0-py3-none-any.whl").write_bytes(wheel)
    (tmp_path / "demo-1.0.tar.gz").write_bytes(make_sdist())
    specs: list[BuildSpec] = []

    def rebuilder(spec: BuildSpec, *, progress: Progress | None = None) -> BuildResult:
        specs.append(spec)
        spec.outdir.mkdir(parents=True, exist_ok=True)
        path = spec.outdir / "demo-1.0-py3-none-any.whl"
        path.write_bytes(wheel)
        digest = hashlib.sha256(wheel).hexdigest()
        output = BuildOutput(filename=path.name, sha256=digest, size=len(wheel))
        return BuildResult(outputs=(output,), paths=(path,), buildinfo_path=path, buildinfo={})

    provider = Provider(("3.8",))
    result = verify_demo(
        tmp_path / "demo-1.0-py3-none-any.whl",
        tmp_path / "demo-1.0.tar.gz",
        tmp_path / "cache",
        rebuilder,
        pythons=(HERE,),
        python_provider=provider,
    )
    assert result.verdict is Verdict.REPRODUCIBLE
    assert result.recipe is not None
    # the newest CPython at the wheel's date (its newest member time, 2020-01-01)
    assert result.recipe.wanted_python == "3.8"
    assert provider.asked == ["3.8"]
    assert result.recipe.python == "3.8.0"
    assert [spec.python for spec in specs] == [Path("/uv/cpython-3.8/bin/python3.8")]
