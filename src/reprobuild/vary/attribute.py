"""Which variations cause a difference: adaptive group testing over the set of variations.

The experiment (every variation at once) gave some artifacts other bytes than the control. To
name the culprits, the set of variations is halved: each half is applied alone to the control
and built; a half whose build still differs holds a culprit, and is halved again, down to
single variations. With k culprits among n variations that takes at most about
2·k·log2(n) builds, where trying each variation alone (reprotest's way) takes n.

Each artifact (sdist, wheel) is followed on its own: a variation may change one and not the
other. When a set differs but neither of its halves does alone, the variations in it act only
together: the set is reported as one culprit.

Builds are asked for in batches (:data:`Tester`), so that a caller can run them in parallel:
the first halves of every set in question, then the second halves that are still in question.
A second half is not built when the first changes none of the set's artifacts (then the second
must); a culprit found that way is built alone at the end, to be sure it acts alone.

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
    """A set of variations (one, unless they act only together) and the artifacts it changes
    when applied alone."""

    variations: tuple[str, ...]
    artifacts: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Attribution:
    culprits: tuple[Culprit, ...]
    builds: int  #: how many builds the attribution asked for


def attribute(
    variations: Sequence[str],
    differing: frozenset[str],
    test: Tester,
) -> Attribution:
    """Find the culprits among ``variations``, which together change the artifacts
    ``differing``; ``variations`` keep their order in every half and in the result."""
    order = {name: i for i, name in enumerate(variations)}
    builds = 0

    def run(sets: Sequence[tuple[str, ...]]) -> list[frozenset[str]]:
        nonlocal builds
        if not sets:
            return []
        results = list(test([frozenset(s) for s in sets]))
        builds += len(results)
        return results

    culprits: list[Culprit] = []
    # a set known to change `artifacts`; whether it was built alone; the smallest set above it
    # that was (what to blame if it turns out to need a sibling's variations)
    pending: list[tuple[tuple[str, ...], frozenset[str], bool, tuple[str, ...]]] = []
    if differing and variations:
        pending.append((tuple(variations), differing, True, tuple(variations)))
    inferred: list[tuple[tuple[str, ...], frozenset[str], tuple[str, ...]]] = []
    while pending:
        splits = []
        for names, artifacts, tested, anchor in pending:
            if len(names) > 1:
                splits.append((names, artifacts, tested, anchor))
            elif tested:
                culprits.append(Culprit(variations=names, artifacts=artifacts))
            else:
                inferred.append((names, artifacts, anchor))
        pending = []
        lefts = run([names[: len(names) // 2] for names, *_ in splits])
        need_right = [i for i, (_, artifacts, *_) in enumerate(splits) if lefts[i] & artifacts]
        rights = dict(
            zip(
                need_right,
                run([splits[i][0][len(splits[i][0]) // 2 :] for i in need_right]),
                strict=True,
            )
        )
        for i, (names, artifacts, tested, anchor) in enumerate(splits):
            middle = len(names) // 2
            left, right = names[:middle], names[middle:]
            above = names if tested else anchor
            left_hits = lefts[i] & artifacts
            if left_hits:
                pending.append((left, left_hits, True, left))
            if i in rights:
                right_hits = rights[i] & artifacts
                if right_hits:
                    pending.append((right, right_hits, True, right))
                together = artifacts - left_hits - right_hits
                if together:
                    culprits.append(Culprit(variations=names, artifacts=together))
            else:  # the left half changes none of them: the right half must
                pending.append((right, artifacts, False, above))
    # a culprit found by elimination is built alone, to be sure it acts alone; if it does
    # not, it needs variations of the set it was found in, which is blamed instead
    checks = run([names for names, _, _ in inferred])
    for (names, artifacts, anchor), result in zip(inferred, checks, strict=True):
        alone = result & artifacts
        if alone:
            culprits.append(Culprit(variations=names, artifacts=alone))
        if artifacts - alone:
            culprits.append(Culprit(variations=anchor, artifacts=artifacts - alone))
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
            )
    return list(out.values())
