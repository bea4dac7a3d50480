"""The profiling mode: one replica on the web CPU (pinned as in the benchmark), closed-loop
``$connect`` load from the load generator on the other CPU, py-spy sampling the workers;
the raw stacks, the flame graph and the summary land in the run's folder."""

import asyncio
from pathlib import Path

from bench.plan import Plan
from bench.profile import pyspy, stacks
from bench.report.figures import Figures
from bench.scenarios.context import Bench
from bench.scenarios.requests import closed, measure_connects
from devtools.console import say

# The flame graph is a second recording after the raw one (both sample the same processes;
# two samplers at once would disturb each other): this share of the raw one's length.
FLAME_GRAPH_SHARE = 0.5
# Connects per batch: tokens are issued between batches, so the load never runs dry.
BATCH = 200


async def _load_until(bench: Bench, done: asyncio.Event) -> Figures:
    """Closed-loop connects, batch after batch, until ``done``: figures of their own."""
    figures, bench.figures = bench.figures, Figures()
    batch = min(BATCH, bench.plan.connects_per_run * 4)
    try:
        while not done.is_set():
            load = closed(batch, bench.plan.concurrency)
            await measure_connects(bench, "profile.connect", batch, load)
    finally:
        figures, bench.figures = bench.figures, figures
    return figures


async def profile(bench: Bench, plan: Plan) -> Path:
    folder = bench.stack.log_dir
    master = bench.stack.replicas[0].pid
    bench.stack.use_django(1, drop_disconnects=True)
    say("warming up the replica (not sampled)")
    warm = Figures()
    bench.figures, figures = warm, bench.figures
    await measure_connects(bench, "warm-up", plan.concurrency * 4, closed(plan.concurrency * 4, 8))
    bench.figures = figures
    done = asyncio.Event()
    load = asyncio.create_task(_load_until(bench, done))
    raw, svg = folder / "profile.raw.txt", folder / "profile.svg"
    try:
        await pyspy.record(master, plan.profile_seconds, raw, "raw")
        await pyspy.record(master, plan.profile_seconds * FLAME_GRAPH_SHARE, svg, "flamegraph")
    finally:
        done.set()
        loaded = await load
    rates = loaded.values["profile.connect.rate"]
    say(f"{len(rates)} batches of connects while sampling, {min(rates):,.0f}-{max(rates):,.0f}/s")
    if loaded.problems:
        raise RuntimeError("connects failed while sampling: " + "; ".join(loaded.problems))
    summary = stacks.markdown(stacks.summarise(stacks.parse(raw.read_text().splitlines())))
    (folder / "profile.md").write_text(summary + "\n")
    print("\n" + summary + "\n", flush=True)
    say(f"raw stacks {raw}, flame graph {svg}, this summary {folder / 'profile.md'}")
    return folder
