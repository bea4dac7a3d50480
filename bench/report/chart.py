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


def draw(figures: Figures, plan: Plan, path: Path) -> None:
    rates = list(plan.sweep_rates)
    sizes = list(plan.fanout_sizes)
    fig, (latency, throughput, fanout) = plt.subplots(1, 3, figsize=(16, 4.8))
    for kind, label, color in SERIES:
        for percentile, style in (("p50", "-o"), ("p99", "--o")):
            values = _medians(figures, [f"sweep.{kind}.{r}.{percentile}" for r in rates])
            latency.plot(rates, values, style, color=color, label=f"{label} {percentile}")
        done = _medians(figures, [f"sweep.{kind}.{r}.rate" for r in rates])
        throughput.plot(rates, done, "-o", color=color, label=f"{label}, achieved")
        capacity = figures.median(f"{kind}.2.rate")
        throughput.axhline(
            capacity, color=color, linestyle=":", label=f"{label}, capacity (closed loop)"
        )
    latency.axhline(50, color="grey", linewidth=0.8, label="50 ms target")
    latency.set(title="Latency against offered load (2 replicas)", xlabel="offered per second")
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
