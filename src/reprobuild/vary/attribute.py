"""Which variations cause a difference: adaptive group testing over the set of variations.

The experiment (every variation at once) gave some artifacts other bytes than the control. To
name the culprits, the set of variations is halved: each half is applied alone to the control
and built; a half whose build still differs holds a culprit, and is halved again, down to
single variations. With k culprits among n variations that takes at most about
2·k·log2(n) builds, where trying each variation alone (reprotest's way) takes n.

When the difference shows marks that some variations are known to leave (the *suspects*, see
:func:`reprobuild.vary.fixes.suspects`: times point to the clock, modes to the umask, the
experiment's build path to the build path...), the first split is not in halves: each suspect
is built alone, and all the other variations together. A likely culprit is then confirmed in
one build instead of log2(n), and the other variations are still tried: when they change an
artifact too, their set is halved as above. The suspects only choose where to look first.

Each artifact (sdist, wheel) is followed on its own: a variation may change one and not the
other. When a set differs but neither of its halves does alone, the variations in it act only
together: the set is reported as one culprit. When neither a suspect alone nor the others
change an artifact, the whole set is halved for it.

Builds are asked for in batches (:data:`Tester`), so that a caller can run them in parallel:
the first halves of every set in question, then the second halves that are still in question.
A second half is not built when the first changes none of the set's artifacts (then the second
must); a culprit found that way is built alone at the end, to be sure it acts alone. With
``width`` builds at a time, second halves are built beside the first ones while a batch has
room for them: the slots would idle otherwise.

Pure: the tester does the building.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

__all__ = ["Attribution", "Culprit", "Tester", "attribute", "first_sets"]

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


def first_sets(
    variations: Sequence[str], suspects: Collection[str] = ()
) -> tuple[tuple[str, ...], ...]:
    """The sets :func:`attribute` asks for first (without ``width``'s extra halves): each
    suspect alone and the others together, when some but not all variations are suspects;
    else the first half. A caller may build them early, beside other builds."""
    if len(variations) < 2:
        return ()
    guided = tuple(v for v in variations if v in suspects)
    if guided and len(guided) < len(variations):
        return (*((name,) for name in guided), tuple(v for v in variations if v not in suspects))
    return (tuple(variations[: len(variations) // 2]),)


def attribute(
    variations: Sequence[str],
    differing: frozenset[str],
    test: Tester,
    *,
    suspects: Collection[str] = (),
    width: int = 1,
) -> Attribution:
    """Find the culprits among ``variations``, which together change the artifacts
    ``differing``; ``variations`` keep their order in every half and in the result.
    ``suspects`` are tried alone first; ``width`` is how many builds run at a time."""
    order = {name: i for i, name in enumerate(variations)}
    everything = tuple(variations)
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
    first = first_sets(everything, suspects) if differing else ()
    if len(first) > 1:  # the suspects alone, and the others together
        *singles, others = first
        results = run(first)
        explained: frozenset[str] = frozenset()
        for names, result in zip(singles, results, strict=False):
            if result & differing:
                culprits.append(Culprit(variations=names, artifacts=result & differing))
                explained |= result & differing
        if results[-1] & differing:
            pending.append((others, results[-1] & differing, True, others))
        unexplained = differing - explained - results[-1]
        if unexplained:
            pending.append((everything, unexplained, True, everything))
    elif differing and everything:
        pending.append((everything, differing, True, everything))
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
        halves = [(names[: len(names) // 2], names[len(names) // 2 :]) for names, *_ in splits]
        # second halves built beside the first ones while the batch has room
        early = range(min(max(width - len(splits), 0), len(splits)))
        results = run([left for left, _ in halves] + [halves[i][1] for i in early])
        lefts = results[: len(splits)]
        rights = dict(zip(early, results[len(splits) :], strict=True))
        need_right = [
            i
            for i, (_, artifacts, *_) in enumerate(splits)
            if lefts[i] & artifacts and i not in rights
        ]
        rights.update(zip(need_right, run([halves[i][1] for i in need_right]), strict=True))
        for i, (names, artifacts, tested, anchor) in enumerate(splits):
            left, right_half = halves[i]
            above = names if tested else anchor
            left_hits = lefts[i] & artifacts
            if left_hits:
                pending.append((left, left_hits, True, left))
            if i in rights:
                right_hits = rights[i] & artifacts
                if right_hits:
                    pending.append((right_half, right_hits, True, right_half))
                together = artifacts - left_hits - right_hits
                if together:
                    culprits.append(Culprit(variations=above, artifacts=together))
            else:  # the left half changes none of them: the right half must
                pending.append((right_half, artifacts, False, above))
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
