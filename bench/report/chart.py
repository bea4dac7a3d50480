"""The PNG: latency and throughput against offered load, and fan-out time against size."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from bench.plan import Plan
from bench.report.figures import Figures

# One color per kind of request; p50 solid, p99 dashed, closed-loop capacity dotted.
SERIES = (("connect", "full $connect", "tab:blue"), ("insert", "bare INSERT view", "tab:green"))


def _medians(figures: Figures, names: list[str]) -> list[float]:
    return [figures.median(name) for name in names]


def _curve(figures: Figures, kind: str, rates: list[int], figure: str) -> tuple[list, list]:
    """The rates a curve reached (it stops once p99 passes 1 s) and their medians."""
    names = {rate: f"sweep.{kind}.{rate}.{figure}" for rate in rates}
    reached = [rate for rate in rates if figures.has(names[rate])]
    return reached, [figures.median(names[rate]) for rate in reached]


def draw(figures: Figures, plan: Plan, path: Path) -> None:
    rates = list(plan.sweep_rates)
    sizes = list(plan.fanout_sizes)
    fig, (latency, throughput, fanout) = plt.subplots(1, 3, figsize=(16, 4.8))
    for kind, label, color in SERIES:
        for percentile, style in (("p50", "-o"), ("p99", "--o")):
            reached, values = _curve(figures, kind, rates, percentile)
            latency.plot(reached, values, style, color=color, label=f"{label} {percentile}")
        reached, done = _curve(figures, kind, rates, "rate")
        throughput.plot(reached, done, "-o", color=color, label=f"{label}, achieved")
        capacity = figures.median(f"{kind}.2.rate")
        throughput.axhline(
            capacity, color=color, linestyle=":", label=f"{label}, capacity (closed loop)"
        )
    latency.axhline(50, color="grey", linewidth=0.8, label="50 ms target")
    latency.set(
        title="Latency against offered load (2 replicas, pinned)", xlabel="offered per second"
    )
    latency.set(ylabel="ms", yscale="log")
    throughput.plot(rates, rates, color="grey", linewidth=0.8, label="offered")
    throughput.set(title="Throughput against offered load", xlabel="offered per second")
    throughput.set(ylabel="completed per second")
    for implementation, label, color in (
        ("ours", "ours (enqueue_broadcast)", "tab:blue"),
        ("package", "package's send_message", "tab:red"),
    ):
        seconds = _medians(figures, [f"fanout.{implementation}.{s}.seconds" for s in sizes])
        fanout.plot(sizes, seconds, "-o", color=color, label=label)
    fanout.set(title="Broadcast: until every client has it", xlabel="clients in the channel")
    fanout.set(ylabel="seconds")
    for axes in (latency, throughput, fanout):
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=7)
    fig.suptitle(f"{figures.context.get('cpu', '')}, medians of {plan.runs} runs", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
