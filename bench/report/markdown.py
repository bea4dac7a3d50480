"""The run as Markdown: machine, targets, every figure, latency against load, sizing.

``write_into`` replaces the part of docs/performance.md between the two markers, so the
hand-written analysis around it stays.
"""

from collections.abc import Iterable
from pathlib import Path

from bench.plan import Plan
from bench.report import sizing
from bench.report.figures import Figures
from bench.report.ratios import per_run, targets

START = "<!-- bench:results:start (written by make bench; edit outside these markers) -->"
END = "<!-- bench:results:end -->"


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _figure(figures: Figures, name: str, unit: str = "", digits: int = 0) -> str:
    return figures.spread(name).text(unit, digits) if figures.has(name) else "-"


def machine(figures: Figures, plan: Plan) -> str:
    context = figures.context
    rows = [(key, context[key]) for key in ("date", "revision", "cpu", "memory", "os")]
    rows += [(key, context[key]) for key in ("postgresql", "packages", "load_before")]
    rows.append(("placement", context.get("placement", "not recorded")))
    rows.append(("runs", f"{plan.runs} per figure: median (min-max)"))
    return _table(("", "this run"), rows)


def verdicts(figures: Figures, plan: Plan) -> str:
    largest = max(plan.fanout_sizes)
    rows = []
    for target in targets(largest, plan.emulator_connections):
        spread = target.measured(figures)
        if spread is None:
            rows.append((target.name, target.wanted, "not measured", "-"))
            continue
        verdict = "met" if target.met(spread.median) else "**missed**"
        rows.append((target.name, target.wanted, target.text(spread), verdict))
    return _table(("target", "wanted", "measured", ""), rows)


def _request_rows(figures: Figures, kind: str, label: str) -> list[tuple[str, ...]]:
    rows = []
    for replicas in (1, 2):
        prefix = f"{kind}.{replicas}"
        rows.append(
            (
                f"{label}, {replicas} replica{'s' if replicas > 1 else ''}",
                _figure(figures, f"{prefix}.rate", "/s"),
                _figure(figures, f"{prefix}.p50", " ms", 1),
                _figure(figures, f"{prefix}.p95", " ms", 1),
                _figure(figures, f"{prefix}.p99", " ms", 1),
                _figure(figures, f"{prefix}.web_cpu_ms", " ms", 2),
                _figure(figures, f"{prefix}.db_cpu_ms", " ms", 2),
                _figure(figures, f"{prefix}.emulator_cpu_ms", " ms", 2),
                _figure(figures, f"{prefix}.loadgen_cpu_ms", " ms", 2),
            )
        )
    return rows


REQUEST_KINDS = (
    ("insert", "bare INSERT view"),
    ("connect", "full `$connect`"),
    ("package", "package's `WebSocketView` `$connect`"),
)


def _ratio_rows(figures: Figures, placement: str) -> list[tuple[str, ...]]:
    rows = []
    for replicas in (1, 2):
        for other in ("insert", "package"):
            ratio = per_run(
                figures,
                f"{placement}connect.{replicas}.rate",
                f"{placement}{other}.{replicas}.rate",
            )
            if ratio is not None:
                name = f"`$connect` / {other}, {replicas} replica{'s' if replicas > 1 else ''}"
                rows.append((name, ratio.text(" x", 2), *("",) * 7))
    return rows


def requests(figures: Figures, plan: Plan) -> str:
    rows = []
    for placement, title in (("", "pinned"), ("unpinned.", "unpinned")):
        placed = [
            row
            for kind, label in REQUEST_KINDS
            for row in _request_rows(figures, f"{placement}{kind}", f"{label} ({title})")
        ]
        if any(cell != "-" for row in placed for cell in row[1:]):
            rows += placed + _ratio_rows(figures, placement)
    header = (
        "closed loop",
        "throughput",
        "p50",
        "p95",
        "p99",
        "web CPU/op",
        "Postgres CPU/op",
        "emulator CPU/op",
        "load generator CPU/op",
    )
    note = (
        f"{plan.concurrency} requests in flight; {plan.inserts_per_run:,} INSERTs and "
        f"{plan.connects_per_run:,} connects of each kind per run, interleaved in each run. "
        "Pinned: the gunicorn replicas on one CPU, PostgreSQL, the emulator and the load "
        "generator on another (the targets use these); unpinned: every process on any CPU. "
        "CPU per operation is measured from /proc per process group: gunicorn workers, the "
        "PostgreSQL backends serving the benchmark database, the emulator, the load "
        "generator (the benchmark process). The package's view runs as shipped (rate limit "
        "and one-time token on, the same WEBSOCKETS limits as ours), without its demand for "
        "X-Real-Ip, X-Forwarded-Port and X-Amzn-Trace-Id (bench/baseline/package_view.py)."
    )
    return _table(header, rows) + "\n\n" + note


def sweep(figures: Figures, plan: Plan) -> str:
    rows = []
    for rate in plan.sweep_rates:
        rows.append(
            (
                f"{rate}/s",
                _figure(figures, f"sweep.insert.{rate}.rate", "/s"),
                _figure(figures, f"sweep.insert.{rate}.p50", " ms", 1),
                _figure(figures, f"sweep.insert.{rate}.p99", " ms", 1),
                _figure(figures, f"sweep.connect.{rate}.rate", "/s"),
                _figure(figures, f"sweep.connect.{rate}.p50", " ms", 1),
                _figure(figures, f"sweep.connect.{rate}.p99", " ms", 1),
            )
        )
    rows.append(
        (
            "highest rate with p99 ≤ 50 ms",
            _figure(figures, "sweep.insert.best_rate", "/s"),
            "",
            "",
            _figure(figures, "sweep.connect.best_rate", "/s"),
            "",
            "",
        )
    )
    header = ("offered", "INSERT done", "p50", "p99", "`$connect` done", "p50", "p99")
    note = (
        f"{plan.sweep_seconds:g} s at each rate, pinned; a curve stops at the first rate "
        'whose p99 passes 1 s ("-": not run there).'
    )
    return _table(header, rows) + "\n\n" + note


def messaging(figures: Figures, plan: Plan) -> str:
    rows = [
        (
            f"ping → pong round trip at {plan.roundtrip_rate}/s over "
            f"{plan.roundtrip_clients} clients, 2 replicas",
            _figure(figures, "roundtrip.p50", " ms", 1),
            _figure(figures, "roundtrip.p99", " ms", 1),
        )
    ]
    return _table(("message round trip", "p50", "p99"), rows)


def fanout(figures: Figures, plan: Plan) -> str:
    rows = []
    for size in plan.fanout_sizes:
        for implementation in ("ours", "package"):
            prefix = f"fanout.{implementation}.{size}"
            rows.append(
                (
                    f"{size:,}",
                    "ours (`enqueue_broadcast`)"
                    if implementation == "ours"
                    else "package (10 threads)",
                    _figure(figures, f"{prefix}.seconds", " s", 2),
                    _figure(figures, f"{prefix}.rate", "/s"),
                    _figure(figures, f"{prefix}.web_cpu_us", " µs", 0),
                    _figure(figures, f"{prefix}.emulator_cpu_us", " µs", 0),
                    _figure(figures, f"{prefix}.clients_cpu_us", " µs", 0),
                    _figure(figures, f"{prefix}.rss_growth_mib", " MiB", 1),
                )
            )
        speedup = per_run(figures, f"fanout.package.{size}.seconds", f"fanout.ours.{size}.seconds")
        saving = per_run(
            figures, f"fanout.package.{size}.web_cpu_us", f"fanout.ours.{size}.web_cpu_us"
        )
        if speedup is not None and saving is not None:
            ratios = (speedup.text(" x", 1), "", saving.text(" x less", 1))
            rows.append((f"{size:,}", "package / ours", *ratios, "", "", ""))
    header = (
        "clients",
        "broadcast",
        "until all have it",
        "frames/s",
        "web CPU/frame",
        "emulator CPU/frame",
        "clients' CPU/frame",
        "web worker RSS growth",
    )
    return _table(header, rows) + "\n\n" + fanout_rate(figures)


def fanout_rate(figures: Figures) -> str:
    """Both replicas fanning out at once under the shared BROADCAST_FRAMES_PER_SECOND,
    against the emulator's account-level limiter at the same rate."""
    rows = [
        ("frames/s, steady part (both replicas)", _figure(figures, "fanout.rate.achieved", "/s")),
        ("achieved / configured", _figure(figures, "fanout.rate.ratio", "", 3)),
        ("answered 429 by the emulator", _figure(figures, "fanout.rate.throttled")),
    ]
    return _table(("shared fan-out rate, 2 replicas at once", ""), rows)


def emulator(figures: Figures, plan: Plan) -> str:
    rows = [
        ("connections held", _figure(figures, "emulator.held")),
        ("open rate (handshake + `$connect` call)", _figure(figures, "emulator.open_rate", "/s")),
        ("emulator CPU busy while opening", _figure(figures, "emulator.open_cpu_share", " %")),
        ("Management API POST → client", _figure(figures, "emulator.delivery_rate", " frames/s")),
        ("client frame → `$default` call", _figure(figures, "emulator.relay_rate", " frames/s")),
        ("RSS holding them all", _figure(figures, "emulator.rss_mib", " MiB", 1)),
        ("peak RSS", _figure(figures, "emulator.peak_rss_mib", " MiB", 1)),
    ]
    header = (f"emulator alone, {plan.emulator_connections:,} connections", "")
    return _table(header, rows)


def sizing_tables(figures: Figures, plan: Plan) -> str:
    largest = max(plan.fanout_sizes)
    rates = [sizing.for_rate(figures, rate) for rate in sizing.CONNECT_RATES]
    rate_rows = [
        (
            f"{s.rate:,.0f}/s",
            f"{s.web_cpus:.1f}",
            str(s.replicas),
            str(s.database_connections),
            f"{s.database_cpus:.1f}",
            f"{s.writes_per_second:,.0f}",
        )
        for s in rates
    ]
    clients = [sizing.for_clients(figures, n, largest) for n in sizing.CLIENT_COUNTS]
    client_rows = [
        (
            f"{c.clients:,}",
            f"{c.reconnect_rate:,.1f}/s",
            f"{c.session_table_mib:,.0f} MiB",
            f"{c.fanout_seconds_one_process:,.1f} s",
        )
        for c in clients
    ]
    rate_header = (
        "new connections",
        "web CPUs",
        "web replicas",
        "Postgres connections (web)",
        "Postgres CPUs",
        "rows written/s",
    )
    client_header = (
        "concurrent clients",
        "reconnects forced by the 2 h limit",
        "session rows (table + indexes)",
        "broadcast to all, one web process",
    )
    return _table(rate_header, rate_rows) + "\n\n" + _table(client_header, client_rows)


def render(figures: Figures, plan: Plan, chart_name: str | None) -> str:
    parts = [
        "### Machine\n\n" + machine(figures, plan),
        "### Targets\n\n" + verdicts(figures, plan),
        "### `$connect` against the bare-INSERT baseline and the package's view\n\n"
        + requests(figures, plan),
        "### Latency against offered load (open loop, 2 replicas)\n\n" + sweep(figures, plan),
    ]
    if chart_name:
        parts.append(f"![Latency and throughput against load]({chart_name})")
    parts += [
        "### Messages\n\n" + messaging(figures, plan),
        "### Broadcast fan-out (same clients, same web process)\n\n" + fanout(figures, plan),
        "### The emulator alone\n\n" + emulator(figures, plan),
        "### Sizing from these figures\n\n" + sizing_tables(figures, plan),
    ]
    return "\n\n".join(parts)


def write_into(document: Path, body: str) -> None:
    text = document.read_text() if document.exists() else ""
    block = f"{START}\n\n{body}\n\n{END}"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    document.write_text(text)
