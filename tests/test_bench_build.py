"""The pure helpers of ``benchmarks/build.py``: the order of the rounds, the sandbox's cost
(paired round by round) and its goal, the soundness of a build's artifacts, and the byte
comparison of builds."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.factories import make_sdist, make_wheel

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """``benchmarks/build.py``, loaded under a name of its own (``build`` is pypa/build's)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("bench_build", BENCHMARKS / "build.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_build"] = module  # dataclasses look their module up by name
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def run(bench: ModuleType, artifacts: dict[str, bytes], seconds: float = 1.0) -> object:
    return bench.Run(seconds=seconds, exit_code=0, timed_out=False, lines=(), artifacts=artifacts)


def test_rounds_keep_the_pair_together_and_turn_it_over(bench: ModuleType) -> None:
    sides = ["uv", "sandboxed", "none"]
    orders = [bench.round_order(sides, i) for i in range(5)]
    assert orders == [
        ["uv", "sandboxed", "none"],
        ["sandboxed", "none", "uv"],
        ["uv", "none", "sandboxed"],
        ["none", "sandboxed", "uv"],
        ["uv", "sandboxed", "none"],
    ]
    # each reprobuild side goes first in the pair as often as the other, over a cycle
    firsts = [next(s for s in o if s != "uv") for o in orders[:4]]
    assert firsts.count("sandboxed") == firsts.count("none") == 2


def test_cost_is_the_median_of_paired_differences(bench: ModuleType) -> None:
    boxed = [2.2, 2.0, 2.1]
    bare = [2.0, 1.9, 2.05]  # differences 200, 100, 50 ms
    cost = bench.sandbox_cost(boxed, bare)
    assert cost.paired_ms == pytest.approx(100.0)
    assert cost.paired_percent == pytest.approx(100 / 20)
    assert cost.median_ms == pytest.approx(100.0)  # 2.1 - 2.0
    assert cost.min_ms == pytest.approx(100.0)
    assert cost.min_percent == pytest.approx(100 / 19)
    assert (cost.low_ms, cost.high_ms) == (pytest.approx(50.0), pytest.approx(200.0))


def test_pairing_takes_out_what_a_round_shares(bench: ModuleType) -> None:
    # each round is 0.5 s slower or faster as a whole; the sandbox adds 20 ms to every build
    shared = [0.0, 0.5, -0.3, 0.4, -0.2, 0.1, 0.6, -0.4, 0.2]
    bare = [2.0 + x for x in shared]
    boxed = [b + 0.02 for b in bare]
    cost = bench.sandbox_cost(boxed, bare)
    assert cost.paired_ms == pytest.approx(20.0)
    assert cost.low_ms == pytest.approx(20.0) and cost.high_ms == pytest.approx(20.0)
    assert cost.meets_goal


def test_median_interval_covers_at_least_the_level(bench: ModuleType) -> None:
    low, high, level = bench.median_interval([float(v) for v in range(1, 10)])
    assert (low, high) == (2.0, 8.0)  # 9 values: the 2nd smallest and the 2nd largest
    assert level == pytest.approx(1 - 2 * 10 / 512)
    low, high, level = bench.median_interval([1.0, 2.0, 3.0])
    assert (low, high) == (1.0, 3.0)  # too few values for 95 %: the whole range
    assert level == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("boxed", "bare", "met"),
    [
        ([1.05], [1.0], True),  # 50 ms, 5 %: under 100 ms
        ([4.15], [4.0], True),  # 150 ms, 3.75 %: under 5 %
        ([2.15], [2.0], False),  # 150 ms, 7.5 %
        ([0.9], [1.0], True),  # faster in the sandbox: noise, no cost
    ],
)
def test_goal_is_under_5_percent_or_100_ms(
    bench: ModuleType, boxed: list[float], bare: list[float], met: bool
) -> None:
    cost = bench.sandbox_cost(boxed, bare)
    assert cost.meets_goal is met


def test_sound_artifacts_have_no_problems(bench: ModuleType) -> None:
    artifacts = {"demo-1.0.tar.gz": make_sdist(), "demo-1.0-py3-none-any.whl": make_wheel()}
    assert bench.artifact_problems(artifacts) == []


def test_broken_artifacts_are_named(bench: ModuleType) -> None:
    problems = bench.artifact_problems(
        {"demo-1.0.tar.gz": b"not gzip", "demo-1.0-py3-none-any.whl": b"not a zip"}
    )
    assert [p.split(":")[0] for p in problems] == [
        "demo-1.0-py3-none-any.whl is not a zip",
        "demo-1.0.tar.gz is not a gzip'd tar",
    ]
    assert bench.artifact_problems({"demo-1.0.tar.gz": make_sdist()}) == [
        "wrote demo-1.0.tar.gz, not an sdist and a wheel"
    ]


def test_identical_compares_every_build_with_the_first(bench: ModuleType) -> None:
    sdist, wheel = make_sdist(), make_wheel()
    same = {"demo-1.0.tar.gz": sdist, "demo-1.0-py3-none-any.whl": wheel}
    other = {**same, "demo-1.0-py3-none-any.whl": make_wheel(version="1.0", generator="other")}
    assert bench.identical([run(bench, same), run(bench, same)]) == "yes (2 builds)"
    assert bench.identical([run(bench, same), run(bench, other)]) == (
        "**no**: the wheel differs (2 builds)"
    )
    assert bench.identical([run(bench, same)]) == "n/a"
