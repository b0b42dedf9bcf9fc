"""The halving that names culprits, against a pure model of a build: each variation changes
some artifacts, and some change one only together with another."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from hypothesis import given
from hypothesis import strategies as st

from reprobuild.vary.attribute import Culprit, attribute, first_sets

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


def test_one_culprit_among_thirteen_in_a_few_builds() -> None:
    for name in NAMES:
        model = Model({name: WHEEL})
        found = attribute(NAMES, WHEEL, model)
        assert found.culprits == (Culprit(variations=(name,), artifacts=WHEEL),)
        assert found.builds == model.builds
        # one or two builds per halving, and one to check a culprit found by elimination
        assert found.builds <= 2 * math.ceil(math.log2(len(NAMES))) + 1
        assert found.builds < len(NAMES)


def test_the_first_halves_of_every_set_are_built_together() -> None:
    model = Model({"v00": WHEEL, "v12": SDIST})
    found = attribute(NAMES, BOTH, model)
    assert {c.variations: c.artifacts for c in found.culprits} == {
        ("v00",): WHEEL,
        ("v12",): SDIST,
    }
    assert max(model.batches) >= 2


def test_each_artifact_is_followed_on_its_own() -> None:
    model = Model({"v01": SDIST, "v05": BOTH, "v12": WHEEL})
    found = attribute(NAMES, BOTH, model)
    by_name = {c.variations: c.artifacts for c in found.culprits}
    assert by_name == {("v01",): SDIST, ("v05",): BOTH, ("v12",): WHEEL}


def test_variations_that_act_only_together_are_blamed_together() -> None:
    # v02 and v09 fall in different halves; neither changes anything alone
    model = Model({}, together=[(frozenset({"v02", "v09"}), WHEEL)])
    found = attribute(NAMES, WHEEL, model)
    [culprit] = found.culprits
    assert {"v02", "v09"} <= set(culprit.variations)
    assert model.outcome(frozenset(culprit.variations)) == WHEEL


def test_nothing_to_explain_builds_nothing() -> None:
    model = Model({"v01": WHEEL})
    found = attribute(NAMES, frozenset(), model)
    assert found.culprits == () and found.builds == 0
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
)
def test_independent_culprits_are_all_found(culprits: dict[str, frozenset[str]]) -> None:
    model = Model(culprits)
    differing = model.outcome(frozenset(NAMES))
    found = attribute(NAMES, differing, model)
    assert {c.variations[0]: c.artifacts for c in found.culprits} == culprits
    assert all(len(c.variations) == 1 for c in found.culprits)
    # every culprit was built alone, and changes what it is blamed for
    for culprit in found.culprits:
        assert model.outcome(frozenset(culprit.variations)) == culprit.artifacts
    if culprits:
        # k culprits: at most 2 builds per culprit per level of halving, plus the checks
        levels = math.ceil(math.log2(len(NAMES)))
        assert found.builds <= 2 * len(culprits) * levels + len(culprits)


def test_suspects_are_built_alone_and_the_others_together_in_one_batch() -> None:
    model = Model({"v03": WHEEL, "v07": SDIST})
    found = attribute(NAMES, BOTH, model, suspects={"v03", "v07", "v10"})
    assert {c.variations: c.artifacts for c in found.culprits} == {
        ("v03",): WHEEL,
        ("v07",): SDIST,
    }
    assert model.batches == [4]  # three suspects, and the ten others: nothing changes there
    assert first_sets(NAMES, {"v03", "v07", "v10"}) == (
        ("v03",),
        ("v07",),
        ("v10",),
        tuple(n for n in NAMES if n not in {"v03", "v07", "v10"}),
    )


def test_a_wrong_suspect_leaves_the_others_to_the_halving() -> None:
    model = Model({"v05": WHEEL, "v01": SDIST})
    found = attribute(NAMES, BOTH, model, suspects={"v01"})
    assert {c.variations: c.artifacts for c in found.culprits} == {
        ("v01",): SDIST,
        ("v05",): WHEEL,
    }
    assert model.outcome(frozenset({"v05"})) == WHEEL


def test_suspects_that_act_only_together_are_blamed_together() -> None:
    model = Model({}, together=[(frozenset({"v02", "v09"}), WHEEL)])
    found = attribute(NAMES, WHEEL, model, suspects={"v02", "v09"})
    [culprit] = found.culprits
    assert {"v02", "v09"} <= set(culprit.variations)
    assert model.outcome(frozenset(culprit.variations)) == WHEEL


def test_with_room_in_a_batch_both_halves_are_built_at_once() -> None:
    one, two = Model({"v12": WHEEL}), Model({"v12": WHEEL})
    alone = attribute(NAMES, WHEEL, one)
    paired = attribute(NAMES, WHEEL, two, width=2)
    assert alone.culprits == paired.culprits == (Culprit(variations=("v12",), artifacts=WHEEL),)
    assert len(two.batches) < len(one.batches)
    assert max(two.batches) <= 2


@given(
    culprits=st.dictionaries(
        st.sampled_from(NAMES), st.sampled_from([SDIST, WHEEL, BOTH]), max_size=4
    ),
    suspected=st.sets(st.sampled_from(NAMES), max_size=6),
    width=st.integers(min_value=1, max_value=3),
)
def test_independent_culprits_are_found_whatever_is_suspected(
    culprits: dict[str, frozenset[str]], suspected: set[str], width: int
) -> None:
    model = Model(culprits)
    differing = model.outcome(frozenset(NAMES))
    found = attribute(NAMES, differing, model, suspects=suspected, width=width)
    assert {c.variations[0]: c.artifacts for c in found.culprits} == culprits
    assert all(len(c.variations) == 1 for c in found.culprits)
    for culprit in found.culprits:
        assert model.outcome(frozenset(culprit.variations)) == culprit.artifacts
