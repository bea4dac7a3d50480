"""The emulator alone, in front of a stand-in for Django: connections one process (one
core: it is a single asyncio loop) holds, and frames it relays each way. It is the
measurement of ``python -m bench.emulator_capacity`` (docs/emulator.md), so both report the
same figures."""

from bench.emulator_capacity import Run
from bench.scenarios.context import Bench
from devtools.console import say

HANDSHAKES_IN_FLIGHT = 200


async def emulator_alone(bench: Bench) -> None:
    plan, figures = bench.plan, bench.figures
    for run in range(1, plan.runs + 1):
        count = plan.emulator_connections
        say(f"emulator alone, run {run}/{plan.runs}: {count:,} connections")
        hold = plan.emulator_hold_seconds
        result = await Run(count, HANDSHAKES_IN_FLIGHT, hold, bench.stack.log_dir).measure()
        figures.expect(result.ok, f"emulator: held {result.held}, relayed {result.relayed}")
        figures.add("emulator.held", result.held)
        figures.add("emulator.open_rate", result.opened / result.open_seconds)
        figures.add("emulator.open_cpu_share", result.open_cpu_share * 100)
        figures.add("emulator.delivery_rate", result.pushed / result.push_seconds)
        figures.add("emulator.relay_rate", result.relayed / result.relay_seconds)
        figures.add("emulator.rss_mib", result.rss_mib)
        figures.add("emulator.peak_rss_mib", result.peak_rss_mib)
        say(
            f"held {result.held:,}, {result.pushed / result.push_seconds:,.0f} frames/s to "
            f"clients, {result.relayed / result.relay_seconds:,.0f} frames/s to Django"
        )
