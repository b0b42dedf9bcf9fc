"""Which variations cause a difference: adaptive group testing over the set of variations.

The experiment (every variation at once) gave some artifacts other bytes than the control. To
name the culprits, the set of variations is halved: each half is applied alone to the control
and built; a half whose build still differs holds a culprit, and is halved again, down to
single variations. With k culprits among n variations that takes about 2·k·log2(n) builds,
where trying each variation alone (reprotest's way) takes n.

Each artifact (sdist, wheel) is followed on its own: a variation may change one and not the
other. When a set differs but neither of its halves does alone, the variations in it act only
together: the set is reported as one culprit.

Builds are asked for in batches (:data:`Tester`), so that a caller can run them in parallel;
with ``parallel=False`` the second half is built only when the first half's result does not
already say what it holds (a half that changes none of the set's artifacts leaves them all to
the other half), which saves builds when they run one at a time.

Pure: the tester does the building.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Attribution", "Culprit", "Tester", "attribute"]

#: Build the control with each set of variations applied (one build per set) and say, for each
#: set, which artifacts differ from the control's.
Tester = Callable[[Sequence[frozenset[str]]], Sequence[frozenset[str]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Culprit:
    """A set of variations (one, unless they act only together) and the artifacts it changes.

    ``tested`` is False when the set was never built alone: its half-sibling changed none of
    the artifacts its parent set changed, so it must hold the cause."""

    variations: tuple[str, ...]
    artifacts: frozenset[str]
    tested: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Attribution:
    culprits: tuple[Culprit, ...]
    builds: int  #: how many builds the attribution asked for


def attribute(
    variations: Sequence[str],
    differing: frozenset[str],
    test: Tester,
    *,
    parallel: bool = True,
) -> Attribution:
    """Find the culprits among ``variations``, which together change the artifacts
    ``differing``; ``variations`` keep their order in every half and in the result."""
    order = {name: i for i, name in enumerate(variations)}
    builds = 0
    culprits: list[Culprit] = []
    # each pending entry: a set of variations known to change `artifacts`, and whether it was
    # built alone
    pending: list[tuple[tuple[str, ...], frozenset[str], bool]] = []
    if differing and variations:
        pending.append((tuple(variations), differing, True))
    while pending:
        splits: list[tuple[tuple[str, ...], frozenset[str], tuple[str, ...], tuple[str, ...]]] = []
        for names, artifacts, tested in pending:
            if len(names) == 1:
                culprits.append(Culprit(variations=names, artifacts=artifacts, tested=tested))
            else:
                middle = len(names) // 2
                splits.append((names, artifacts, names[:middle], names[middle:]))
        pending = []
        if not splits:
            break
        if parallel:
            results = list(test([frozenset(s[i]) for s in splits for i in (2, 3)]))
            builds += len(results)
            pairs = [(results[2 * n], results[2 * n + 1], True) for n in range(len(splits))]
        else:
            pairs = []
            for _names, artifacts, left, right in splits:
                [left_result] = test([frozenset(left)])
                builds += 1
                if not left_result & artifacts:
                    pairs.append((left_result, artifacts, False))
                else:
                    [right_result] = test([frozenset(right)])
                    builds += 1
                    pairs.append((left_result, right_result, True))
        for (names, artifacts, left, right), (left_result, right_result, right_tested) in zip(
            splits, pairs, strict=True
        ):
            left_hits = left_result & artifacts
            right_hits = right_result & artifacts
            if left_hits:
                pending.append((left, left_hits, True))
            if right_hits:
                pending.append((right, right_hits, right_tested))
            together = artifacts - left_hits - right_hits
            if together:
                culprits.append(Culprit(variations=names, artifacts=together, tested=True))
    culprits.sort(key=lambda c: [order[name] for name in c.variations])
    return Attribution(culprits=tuple(_merged(culprits)), builds=builds)


def _merged(culprits: Sequence[Culprit]) -> list[Culprit]:
    """One culprit per set of variations, with the union of the artifacts it changes."""
    out: dict[tuple[str, ...], Culprit] = {}
    for culprit in culprits:
        seen = out.get(culprit.variations)
        if seen is None:
            out[culprit.variations] = culprit
        else:
            out[culprit.variations] = Culprit(
                variations=culprit.variations,
                artifacts=seen.artifacts | culprit.artifacts,
                tested=seen.tested or culprit.tested,
            )
    return list(out.values())
