"""The halving that names culprits, against a pure model of a build: each variation changes
some artifacts, and some change one only together with another."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reprobuild.vary.attribute import Culprit, attribute

NAMES = [f"v{i:02d}" for i in range(13)]


class Model:
    """A fake build: the artifacts a set of variations changes, counting the builds asked for."""

    def __init__(
        self,
        effects: Mapping[str, frozenset[str]],
        together: Sequence[tuple[frozenset[str], frozenset[str]]] = (),
    ) -> None:
        self.effects = effects
        self.together = together
        self.builds = 0
        self.batches: list[int] = []

    def outcome(self, applied: frozenset[str]) -> frozenset[str]:
        changed: set[str] = set()
        for name in applied:
            changed |= self.effects.get(name, frozenset())
        for needed, artifacts in self.together:
            if needed <= applied:
                changed |= artifacts
        return frozenset(changed)

    def __call__(self, sets: Sequence[frozenset[str]]) -> list[frozenset[str]]:
        self.builds += len(sets)
        self.batches.append(len(sets))
        return [self.outcome(s) for s in sets]


WHEEL = frozenset({"wheel"})
SDIST = frozenset({"sdist"})
BOTH = WHEEL | SDIST


@pytest.mark.parametrize("parallel", [True, False])
def test_one_culprit_among_thirteen(parallel: bool) -> None:
    model = Model({"v07": WHEEL})
    found = attribute(NAMES, model.outcome(frozenset(NAMES)), model, parallel=parallel)
    assert [c.variations for c in found.culprits] == [("v07",)]
    assert found.culprits[0].artifacts == WHEEL
    assert found.builds == model.builds
    # about log2(13) levels: two builds a level in parallel, at most two in a row
    assert found.builds <= 2 * math.ceil(math.log2(13))
    if parallel:
        assert found.culprits[0].tested


def test_serial_halving_builds_fewer_than_one_build_per_variation() -> None:
    model = Model({"v00": WHEEL})
    found = attribute(NAMES, WHEEL, model, parallel=False)
    assert [c.variations for c in found.culprits] == [("v00",)]
    assert model.builds < len(NAMES)
    assert model.batches == [1] * model.builds


def test_parallel_halving_builds_both_halves_at_once() -> None:
    model = Model({"v03": WHEEL, "v11": WHEEL})
    attribute(NAMES, WHEEL, model, parallel=True)
    assert all(size % 2 == 0 for size in model.batches)
    assert max(model.batches) >= 4  # both culprits' halves in one batch


def test_each_artifact_is_followed_on_its_own() -> None:
    model = Model({"v01": SDIST, "v05": BOTH, "v12": WHEEL})
    found = attribute(NAMES, BOTH, model)
    by_name = {c.variations: c.artifacts for c in found.culprits}
    assert by_name == {("v01",): SDIST, ("v05",): BOTH, ("v12",): WHEEL}


def test_variations_that_act_only_together_are_one_culprit() -> None:
    # v02 and v09 fall in different halves; neither changes anything alone
    model = Model({}, together=[(frozenset({"v02", "v09"}), WHEEL)])
    found = attribute(NAMES, WHEEL, model, parallel=True)
    [culprit] = found.culprits
    assert {"v02", "v09"} <= set(culprit.variations)
    assert model.outcome(frozenset(culprit.variations)) == WHEEL


def test_nothing_to_explain_builds_nothing() -> None:
    model = Model({"v01": WHEEL})
    found = attribute(NAMES, frozenset(), model)
    assert found == type(found)(culprits=(), builds=0)
    assert model.builds == 0


def test_a_single_variation_needs_no_build() -> None:
    model = Model({"v01": WHEEL})
    found = attribute(["v01"], WHEEL, model)
    assert found.culprits == (Culprit(variations=("v01",), artifacts=WHEEL),)
    assert model.builds == 0


@given(
    culprits=st.dictionaries(
        st.sampled_from(NAMES), st.sampled_from([SDIST, WHEEL, BOTH]), max_size=4
    ),
    parallel=st.booleans(),
)
def test_independent_culprits_are_all_found(
    culprits: dict[str, frozenset[str]], parallel: bool
) -> None:
    model = Model(culprits)
    differing = model.outcome(frozenset(NAMES))
    found = attribute(NAMES, differing, model, parallel=parallel)
    assert {c.variations[0]: c.artifacts for c in found.culprits} == culprits
    assert all(len(c.variations) == 1 for c in found.culprits)
    # every tested culprit changes, alone, what it is blamed for
    for culprit in found.culprits:
        if culprit.tested:
            assert model.outcome(frozenset(culprit.variations)) == culprit.artifacts
    # k culprits: at most 2 builds per culprit per level of halving
    if culprits:
        assert found.builds <= 2 * len(culprits) * math.ceil(math.log2(len(NAMES)))
