"""The report of ``reprobuild vary``: as text, as a JSON document, as one HTML page."""

from __future__ import annotations

from reprobuild.present import render_json as render_difference
from reprobuild.present.reportpage import Section, render_report_html
from reprobuild.report import JSONValue, envelope
from reprobuild.vary.fixes import differing_members
from reprobuild.vary.run import ArtifactFinding, VaryReport

__all__ = ["render_html", "render_json", "render_text", "summary"]


def _culprit(names: tuple[str, ...]) -> str:
    return " + ".join(names)


def summary(report: VaryReport) -> str:
    """One line: reproducible, or which artifact differs because of what."""
    used = sum(1 for v in report.variations if v.skipped is None)
    builds = len(report.builds)
    if report.reproducible:
        return f"reproducible under {used} variations ({builds} builds, {report.seconds:.0f} s)"
    parts = []
    for finding in report.artifacts:
        if finding.verdict == "random":
            parts.append(f"{finding.kind}: random on its own")
        elif finding.verdict in ("different", "build-failed"):
            culprits = ", ".join(_culprit(c) for c in finding.culprits) or "no single culprit"
            parts.append(f"{finding.kind}: {culprits}")
    return f"not reproducible: {'; '.join(parts)} ({builds} builds, {report.seconds:.0f} s)"


def _members(finding: ArtifactFinding) -> list[str]:
    if finding.difference is None:
        return []
    members = differing_members(finding.difference, finding.filename)
    return [
        f"{name} ({', '.join(sorted(c.value for c in cats))})" for name, cats in members.items()
    ]


def render_text(report: VaryReport, *, max_members: int = 12) -> str:
    """The report as plain text, ending with the summary line and a newline."""
    out = [f"source: {report.source}"]
    if report.sandbox:
        kind, version = report.sandbox.get("kind"), report.sandbox.get("version") or ""
        out.append(f"sandbox: {kind} {version}".rstrip())
    out.append("variations:")
    for v in report.variations:
        state = f"skipped: {v.skipped}" if v.skipped else v.description
        out.append(f"  {v.name:<15} {state}")
    for finding in report.artifacts:
        out.append("")
        out.append(f"{finding.kind} {finding.filename}: {finding.verdict}")
        if finding.culprits:
            out.append(f"  culprit: {', '.join(_culprit(c) for c in finding.culprits)}")
        members = _members(finding)
        if members:
            out.append("  differing members:")
            out.extend(f"    {m}" for m in members[:max_members])
            if len(members) > max_members:
                out.append(f"    ... and {len(members) - max_members} more")
        for fix in finding.fixes:
            out.append(f"  fix: {fix}")
    if report.experiment_error:
        out.append("")
        out.append(f"the experiment's build failed: {report.experiment_error}")
    out.append("")
    out.append(summary(report))
    return "\n".join(out) + "\n"


def render_json(report: VaryReport) -> dict[str, JSONValue]:
    """The ``--format json`` document (with ``schema_version``, the tool and the command)."""
    body: dict[str, JSONValue] = {
        "source": report.source,
        "reproducible": report.reproducible,
        "summary": summary(report),
        "seconds": round(report.seconds, 3),
        "sandbox": dict(report.sandbox) or None,
        "variations": [
            {"name": v.name, "description": v.description, "skipped": v.skipped}
            for v in report.variations
        ],
        "artifacts": [
            {
                "kind": f.kind,
                "filename": f.filename,
                "sha256": f.sha256,
                "verdict": f.verdict,
                "culprits": [list(c) for c in f.culprits],
                "members": list[JSONValue](_members(f)),
                "fixes": list[JSONValue](f.fixes),
                "difference": None if f.difference is None else render_difference(f.difference),
            }
            for f in report.artifacts
        ],
        "builds": [
            {
                "label": b.label,
                "variations": list(b.variations),
                "seconds": round(b.seconds, 3),
                "error": b.error or None,
                "outputs": {kind: b.signature(kind) for kind in b.artifacts},
            }
            for b in report.builds
        ],
        "experiment_error": report.experiment_error or None,
    }
    return envelope("vary", body)


def render_html(report: VaryReport) -> str:
    """One self-contained page: the variations, then each artifact with its culprits, fixes
    and difference tree."""
    sections = [
        Section(
            heading="variations",
            items=tuple(
                f"{v.name}: " + (f"skipped: {v.skipped}" if v.skipped else v.description)
                for v in report.variations
            ),
        )
    ]
    for finding in report.artifacts:
        paragraphs = []
        if finding.culprits:
            paragraphs.append("culprit: " + ", ".join(_culprit(c) for c in finding.culprits))
        sections.append(
            Section(
                heading=f"{finding.kind} {finding.filename}: {finding.verdict}",
                paragraphs=tuple(paragraphs),
                fixes=finding.fixes,
                difference=finding.difference,
            )
        )
    sections.append(
        Section(
            heading=f"{len(report.builds)} builds",
            items=tuple(
                f"{b.label}: {'failed: ' + b.error if b.error else 'done'} ({b.seconds:.1f} s)"
                for b in report.builds
            ),
        )
    )
    return render_report_html(
        command="vary",
        title=report.source,
        verdict=summary(report),
        good=report.reproducible,
        sections=sections,
    )
