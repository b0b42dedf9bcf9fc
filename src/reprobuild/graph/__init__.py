"""``reprobuild graph``: many build steps as a pure function, with a content-addressed cache,
early cutoff, a shared remote cache, and executors from one process pool to a Dask cluster."""

from __future__ import annotations

from reprobuild.graph.plan import Node, Plan, plan_workspace, workspace_members
from reprobuild.graph.schedule import GraphOptions, GraphReport, NodeReport, run_graph
from reprobuild.graph.tasks import Job, RemoteConfig, run_job

__all__ = [
    "GraphOptions",
    "GraphReport",
    "Job",
    "Node",
    "NodeReport",
    "Plan",
    "RemoteConfig",
    "plan_workspace",
    "run_graph",
    "run_job",
    "workspace_members",
]
