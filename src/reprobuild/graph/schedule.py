"""Run a graph of build steps in dependency order, with early cutoff.

A step's action key is computed once every step it needs is done, from their *outputs'*
digests. A step found in the cache is not run; a step rebuilt bit for bit gives its dependents
the keys they had, so they are found in the cache (early cutoff). What each step did is kept per
graph (``<cache-dir>/graphs/<id>.json``), so that the next run says whether a rebuilt step's
output changed, and a dry run names the inputs that changed since.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from reprobuild._fs import sha256_hex, write_bytes_atomic
from reprobuild.actions import (
    Action,
    Caches,
    Performed,
    changed_fields,
    interpreter_and_platform,
    lookup,
    resolve_cached,
)
from reprobuild.errors import ReprobuildError
from reprobuild.graph.plan import Node, Plan
from reprobuild.graph.tasks import Job, RemoteConfig, run_job

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild._types import JSONValue
    from reprobuild.executors import Executor, Task
    from reprobuild.frontend import Sandbox

__all__ = ["GraphOptions", "GraphReport", "NodeReport", "run_graph"]

GRAPH_SCHEMA_VERSION = 1

Status = Literal[
    "cache-hit",
    "remote-hit",
    "built",
    "rebuilt-unchanged",
    "rebuilt-changed",
    "failed",
    "skipped",
    "would-build",
    "waits",
    "seeded",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphOptions:
    """How to run a graph: the cache folder, the build settings every step shares, the
    sandbox, the remote cache, whether to look in the caches at all, and whether to only say
    what would be built."""

    cache_dir: Path
    exclude_newer: datetime
    sandbox: Sandbox
    remote: RemoteConfig | None = None
    use_cache: bool = True
    dry_run: bool = False
    source_date_epoch: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeReport:
    """What happened to one step: its status; its key; for a step that was built, the inputs
    that changed since the last run of this graph; how many steps were found in the cache
    because its output came out the same (``cut_off``); for a skipped step, the failed step it
    needed; ``deps``, the steps it needed; ``kind``, the plan's kind of step. A ``seeded``
    step is a published wheel used in place of one built from source, for ``reason`` (its
    ``error`` is that of its build, when the build was tried and failed)."""

    id: str
    status: Status
    key: str | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    changed: tuple[str, ...] = ()
    cut_off: int = 0
    because: str | None = None
    error: str | None = None
    where: str | None = None
    deps: tuple[str, ...] = ()
    kind: str = ""
    reason: str | None = None
    #: the document the step's key is the hash of (:meth:`Action.document`), for the step's
    #: attestation; not in :meth:`to_json`, which names the key
    action: Mapping[str, JSONValue] = field(default_factory=dict)

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "id": self.id,
            "kind": self.kind,
            "reason": self.reason,
            "deps": list(self.deps),
            "status": self.status,
            "key": self.key,
            "outputs": [{"name": k, "sha256": v} for k, v in self.outputs.items()],
            "seconds": round(self.seconds, 3),
            "changed": list(self.changed),
            "cut_off": self.cut_off,
            "because": self.because,
            "error": self.error,
            "where": self.where,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphReport:
    """Every step's report, in build order, and the run's totals."""

    nodes: tuple[NodeReport, ...]
    executor: str
    seconds: float
    exclude_newer: str

    @property
    def builds(self) -> int:
        """The steps that ran a build (succeeded or not)."""
        return sum(
            n.status in ("built", "rebuilt-unchanged", "rebuilt-changed", "failed")
            for n in self.nodes
        )

    @property
    def failed(self) -> int:
        return sum(n.status == "failed" for n in self.nodes)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for node in self.nodes:
            out[node.status] = out.get(node.status, 0) + 1
        return out

    @property
    def seeds(self) -> tuple[NodeReport, ...]:
        """The steps that took a published wheel in place of one built from source."""
        return tuple(n for n in self.nodes if n.status == "seeded")

    @property
    def from_source(self) -> int:
        """The release steps whose wheel was built from its sdist (here or found cached)."""
        return sum(
            n.kind == "release" and n.status not in ("seeded", "failed", "skipped")
            for n in self.nodes
        )

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "executor": self.executor,
            "seconds": round(self.seconds, 3),
            "exclude_newer": self.exclude_newer,
            "steps": len(self.nodes),
            "builds": self.builds,
            "rebuild_everything": len(self.nodes),
            "counts": dict(self.counts()),
            "from_source": self.from_source,
            "seeds": [_seed_json(n) for n in self.seeds],
            "nodes": [n.to_json() for n in self.nodes],
        }


def _seed_json(node: NodeReport) -> dict[str, JSONValue]:
    key = node.id.rpartition(":")[0]
    name, _, version = key.partition("==")
    wheels = [v for k, v in node.outputs.items() if k.endswith(".whl")]
    return {
        "name": name,
        "version": version,
        "reason": node.reason,
        "sha256": wheels[0] if wheels else None,
    }


def graph_id(plan: Plan) -> str:
    """A name for the graph that stays the same from run to run, and when the workspace is
    moved or checked out elsewhere: a digest of its steps' ids."""
    text = "\n".join(n.id for n in plan.nodes)
    return sha256_hex(text.encode())[:32]


def run_graph(
    plan: Plan,
    options: GraphOptions,
    executor: Executor,
    *,
    progress: Callable[[str], None] | None = None,
) -> GraphReport:
    """Run ``plan``'s steps on ``executor`` (see the module's description)."""
    with tempfile.TemporaryDirectory(prefix="reprobuild-graph-") as scratch:
        return _GraphRun(plan, options, executor, progress, Path(scratch)).run()


#: The statuses of a step whose dependents cannot run now.
_BLOCKING = ("failed", "skipped", "would-build", "waits")


class _GraphRun:
    """One run of a graph: what is done, running and waiting, and what each step did."""

    def __init__(
        self,
        plan: Plan,
        options: GraphOptions,
        executor: Executor,
        progress: Callable[[str], None] | None,
        scratch: Path,
    ) -> None:
        self.plan = plan
        self.options = options
        self.executor = executor
        self.say = progress or (lambda _line: None)
        self.start = time.monotonic()
        self.caches = Caches.at(
            options.cache_dir / "store",
            remote=options.remote.client() if options.remote else None,
            warn=self._warn,
        )
        self.sandbox = options.sandbox.mode.value
        self.interpreter, self.machine = interpreter_and_platform()
        self.state_path = options.cache_dir / "graphs" / f"{graph_id(plan)}.json"
        self.previous = _load_state(self.state_path)
        self.by_id = plan.by_id
        self.done: dict[str, Performed] = {}
        self.reports: dict[str, NodeReport] = {}
        self.documents: dict[str, dict[str, JSONValue]] = {}
        self.running: dict[Task, str] = {}
        self.waiting = [n.id for n in plan.nodes]
        self.names: dict[str, str] = {}  # a wheel step's id -> its wheel's file name
        #: the workspace's wheels, offered to its resolutions
        self.links = scratch / "wheels"

    def _warn(self, line: str) -> None:
        self.say(f"warning: {line}")

    def run(self) -> GraphReport:
        while self.waiting or self.running:
            progressed = self._start_ready()
            if self.running:
                self._collect()
            elif not progressed and self.waiting:
                raise ReprobuildError("the graph cannot go on: " + ", ".join(self.waiting))
        report = GraphReport(
            nodes=tuple(_with_cut_off(self.plan, self.reports)),
            executor=self.executor.name,
            seconds=time.monotonic() - self.start,
            exclude_newer=self.options.exclude_newer.isoformat(),
        )
        if not self.options.dry_run:
            _save_state(self.state_path, self.previous, self.reports, self.documents)
        return report

    def _start_ready(self) -> bool:
        """Start (or find in the cache, or skip) every waiting step whose steps are done;
        whether any was."""
        progressed = False
        for node_id in list(self.waiting):
            node = self.by_id[node_id]
            blocked = next(
                (d for d in node.deps if d in self.reports and self.reports[d].status in _BLOCKING),
                None,
            )
            if blocked is None and not all(d in self.done for d in node.deps):
                continue
            self.waiting.remove(node_id)
            progressed = True
            if blocked is not None:
                later = self.reports[blocked].status in ("would-build", "waits")
                status: Status = "waits" if later else "skipped"
                self.reports[node_id] = NodeReport(id=node_id, status=status, because=blocked)
                self.say(f"{node_id}: {status}, {blocked} first")
                continue
            self._start(node)
        return progressed

    def _start(self, node: Node) -> None:
        try:
            action, job = self._action_of(node)
        except ReprobuildError as exc:
            self.reports[node.id] = NodeReport(id=node.id, status="failed", error=str(exc))
            self.say(f"{node.id}: failed: {exc}")
            return
        self.documents[node.id] = action.document()
        if self.options.use_cache:
            found = lookup(action, self.caches, warn=self._warn)
            if found is not None:
                self._finish(node.id, found)
                return
        if self.options.dry_run:
            last = _last_action(self.previous, node.id)
            changed = (
                tuple(changed_fields(last, self.documents[node.id]))
                if last is not None
                else ("not built before",)
            )
            self.reports[node.id] = NodeReport(
                id=node.id, status="would-build", key=action.key, changed=changed
            )
            self.say(f"{node.id}: would build ({', '.join(changed) or 'not in the cache'})")
            return
        self.say(f"{node.id}: building")
        task = self.executor.submit(f"reprobuild-{node.kind}-{action.key}", run_job, job)
        self.running[task] = node.id

    def _collect(self) -> None:
        """Wait for a running step to end, and take what it did."""
        for task in self.executor.wait_any(list(self.running)):
            node_id = self.running.pop(task)
            try:
                performed = task.result()
            except Exception as exc:  # a lost worker, a task that could not start
                self.reports[node_id] = NodeReport(
                    id=node_id, status="failed", error=str(exc) or type(exc).__name__
                )
                self.say(f"{node_id}: failed: {exc}")
                continue
            assert isinstance(performed, Performed)
            if performed.origin == "failed" and self.by_id[node_id].seed_file is not None:
                self._fall_back_to_seed(node_id, performed)
                continue
            self._finish(node_id, performed)

    def _fall_back_to_seed(self, node_id: str, failed: Performed) -> None:
        """A build requirement whose sdist did not build: its published wheel instead."""
        import dataclasses

        node = self.by_id[node_id]
        assert node.seed_file is not None
        reason = f"its sdist did not build: {failed.error.splitlines()[0]}"
        fallback = dataclasses.replace(node, kind="seed", reason=reason)
        self.say(f"{node_id}: build failed, taking the published {node.seed_file.filename}")
        seed_action, seed_job = self._action_of(fallback)
        self.documents[node_id] = seed_action.document()
        self.by_id[node_id] = fallback
        self._finish(node_id, run_job(seed_job))
        self.reports[node_id] = dataclasses.replace(self.reports[node_id], error=failed.error)

    def _action_of(self, node: Node) -> tuple[Action, Job]:
        """The step's action (its key computed from what the steps it needs made) and the
        job that finds or builds it."""
        options = self.options
        settings: dict[str, JSONValue] = {
            "exclude_newer": options.exclude_newer.isoformat(),
            "source_date_epoch": options.source_date_epoch,
            "normalize": True,
        }
        if node.kind in ("release", "seed"):
            return _release_step(node, settings, options, self.done, self.names, self.by_id)
        needed = node.deps if node.kind == "bundle" else node.workspace_requires
        wheels = {self.names[d]: self.done[d].outputs[self.names[d]] for d in needed}
        if node.kind == "bundle":
            action = Action(
                kind="bundle",
                label="bundle of the workspace's wheels",
                inputs=dict(wheels),
                interpreter="any",
                platform="any",
                sandbox="none",
            )
            return action, Job(
                kind="bundle",
                action=action,
                cache_dir=options.cache_dir,
                wheels=wheels,
                sandbox=options.sandbox,
                remote=options.remote,
                use_cache=options.use_cache,
            )
        pins_text = resolve_cached(
            node.requires,
            exclude_newer=options.exclude_newer,
            caches=self.caches,
            offered=wheels,
            links=self.links,
            label=f"{node.name} build requirements",
        )
        inputs: dict[str, str] = {}
        sdist: tuple[str, str] | None = None
        if node.kind == "sdist":
            from reprobuild.build import tree_digest

            assert node.project is not None
            inputs["source"] = tree_digest(node.project)
            commit = _git_commit(node.project)
            if commit:
                inputs["git_commit"] = commit
        else:
            ((name, digest),) = self.done[f"{node.name}:sdist"].outputs.items()
            inputs["sdist"] = digest
            sdist = (name, digest)
        action = Action(
            kind=node.kind,
            label=f"{node.name} {node.kind}",
            inputs=inputs,
            environment=tuple(line for line in pins_text.splitlines() if line),
            settings=settings,
            interpreter=self.interpreter,
            platform=self.machine,
            sandbox=self.sandbox,
        )
        job = Job(
            kind="sdist" if node.kind == "sdist" else "wheel",
            action=action,
            cache_dir=options.cache_dir,
            project=node.project,
            sdist=sdist,
            wheels=wheels,
            requires=node.requires,
            pins_text=pins_text,
            exclude_newer=options.exclude_newer,
            source_date_epoch=options.source_date_epoch,
            sandbox=options.sandbox,
            remote=options.remote,
            use_cache=options.use_cache,
        )
        return action, job

    def _status(self, node: Node, performed: Performed) -> Status:
        if performed.origin == "failed":
            return "failed"
        if node.kind == "seed":
            return "seeded"
        if performed.origin == "local":
            return "cache-hit"
        if performed.origin == "remote":
            return "remote-hit"
        before = self.previous.get(node.id)
        old_outputs = before.get("outputs") if isinstance(before, dict) else None
        if isinstance(old_outputs, dict):
            same = old_outputs == performed.outputs
            return "rebuilt-unchanged" if same else "rebuilt-changed"
        return "built"

    def _finish(self, node_id: str, performed: Performed) -> None:
        """Take what a step did: its outputs for the steps after it, and its report."""
        node = self.by_id[node_id]
        status = self._status(node, performed)
        last = _last_action(self.previous, node_id)
        changed = tuple(changed_fields(last, self.documents[node_id])) if last is not None else ()
        if performed.origin != "failed":
            self.done[node_id] = performed
            if node.kind in ("wheel", "release", "seed"):
                (name,) = [n for n in performed.outputs if n.endswith(".whl")]
                self.names[node_id] = name
                # the workspace's wheels are offered to its resolutions (a release's are not:
                # they are installed only by the steps of their closure)
                if node.kind == "wheel":
                    self.links.mkdir(parents=True, exist_ok=True)
                    target = self.links / name
                    if not target.exists():
                        self.caches.store.export(performed.outputs[name], target)
        self.reports[node_id] = NodeReport(
            id=node_id,
            status=status,
            key=performed.key,
            outputs=performed.outputs,
            seconds=performed.seconds,
            changed=changed if status not in ("cache-hit", "remote-hit") else (),
            error=performed.error or None,
            where=performed.result.where if performed.origin == "built" else None,
            reason=node.reason or None,
            action=self.documents.get(node_id, {}),
        )
        timed = f" ({performed.seconds:.1f} s)" if status != "cache-hit" else ""
        self.say(f"{node_id}: {status.replace('-', ' ')}{timed}")


def _with_cut_off(plan: Plan, reports: Mapping[str, NodeReport]) -> list[NodeReport]:
    """The reports in build order, each rebuilt-unchanged step with the number of its
    dependents found in the cache (what it cut off)."""
    import dataclasses

    dependents = plan.dependents()
    out = []
    for node in plan.nodes:
        report = reports[node.id]
        if report.status == "rebuilt-unchanged":
            hits = sum(
                reports[d].status in ("cache-hit", "remote-hit") for d in dependents[node.id]
            )
            report = dataclasses.replace(report, cut_off=hits)
        out.append(dataclasses.replace(report, deps=node.deps, kind=node.kind))
    return out


def _release_step(
    node: Node,
    settings: dict[str, JSONValue],
    options: GraphOptions,
    done: Mapping[str, Performed],
    names: Mapping[str, str],
    by_id: Mapping[str, Node],
) -> tuple[Action, Job]:
    """The action and job of a step of a release's closure (see :mod:`.closure`): a seed's
    download, or a wheel from an sdist of the index in an environment installed only from the
    wheels of the steps it needs, each pinned by its digest."""
    from reprobuild.graph.closure import release_environment

    if node.problem:
        raise ReprobuildError(f"{node.name} {node.version} cannot be built: {node.problem}")
    if node.kind == "seed":
        if node.seed_file is None or node.seed_file.sha256 is None:
            raise ReprobuildError(
                f"{node.name} {node.version} must be seeded ({node.reason}), and the index has "
                "no wheel of it for this interpreter"
            )
        action = Action(
            kind="seed",
            label=f"{node.name} {node.version} published wheel",
            inputs={"wheel": node.seed_file.sha256},
            interpreter="any",
            platform="any",
            sandbox="none",
        )
        return action, Job(
            kind="seed",
            action=action,
            cache_dir=options.cache_dir,
            fetch=node.seed_file,
            sandbox=options.sandbox,
            remote=options.remote,
            use_cache=options.use_cache,
        )
    assert node.sdist_file is not None and node.sdist_file.sha256 is not None
    interpreter, machine = interpreter_and_platform()
    offered = {
        dep: (
            f"{by_id[dep].name}=={by_id[dep].version}",
            names[dep],
            done[dep].outputs[names[dep]],
        )
        for dep in node.deps
    }
    environment, pins_text = release_environment(node, offered)
    action = Action(
        kind="wheel",
        label=f"{node.name} {node.version} wheel",
        inputs={"sdist": node.sdist_file.sha256},
        environment=environment,
        settings={**settings, "no_index": True},
        interpreter=interpreter,
        platform=machine,
        sandbox=options.sandbox.mode.value,
    )
    return action, Job(
        kind="wheel",
        action=action,
        cache_dir=options.cache_dir,
        sdist=(node.sdist_file.filename, node.sdist_file.sha256),
        fetch=node.sdist_file,
        no_index=True,
        wheels={name: digest for _, name, digest in offered.values()},
        requires=node.requires,
        pins_text=pins_text,
        exclude_newer=options.exclude_newer,
        source_date_epoch=options.source_date_epoch,
        sandbox=options.sandbox,
        remote=options.remote,
        use_cache=options.use_cache,
    )


def _git_commit(project: Path) -> str | None:
    from reprobuild.frontend import git_commit_info

    info = git_commit_info(project)
    return info.commit if info is not None and not info.dirty else None


def _last_action(previous: Mapping[str, JSONValue], node_id: str) -> dict[str, JSONValue] | None:
    """The action document of ``node_id`` at the last run of the graph, if it ran then."""
    entry = previous.get(node_id)
    action = entry.get("action") if isinstance(entry, dict) else None
    return action if isinstance(action, dict) and action else None


def _load_state(path: Path) -> dict[str, JSONValue]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    nodes = data.get("nodes") if isinstance(data, dict) else None
    return nodes if isinstance(nodes, dict) else {}


def _save_state(
    path: Path,
    previous: Mapping[str, JSONValue],
    reports: Mapping[str, NodeReport],
    documents: Mapping[str, dict[str, JSONValue]],
) -> None:
    nodes: dict[str, JSONValue] = dict(previous)
    for node_id, report in reports.items():
        if report.status in ("failed", "skipped", "would-build", "waits"):
            continue
        nodes[node_id] = {
            "key": report.key,
            "outputs": dict(report.outputs),
            "action": documents.get(node_id, {}),
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {"schema_version": GRAPH_SCHEMA_VERSION, "nodes": nodes}, indent=1, sort_keys=True
    )
    write_bytes_atomic(path, text.encode("utf-8"))
