"""py-spy's collapsed stacks (``--format raw``) summarised: the share of samples each group
of frames is on (inclusive: anywhere in the stack; self: the innermost frame), and the
functions with the largest inclusive share. Pure functions: tests/test_bench_harness.py."""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

# A frame as py-spy writes it: "function (path/file.py:line)"; the "process N:..." roots
# that --subprocesses adds are not frames.
_FRAME = re.compile(r"^(?P<function>.+) \((?P<file>[^()]+?)(?::\d+)?\)$")

# What the time of one connect goes to, by where the code lives. A frame may match several
# groups (the ORM's compiler is also the ORM): shares are not meant to add up.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gunicorn (worker loop, HTTP parsing)", ("gunicorn/",)),
    ("Django request handling (handlers, middleware chain)", ("django/core/handlers/",)),
    ("Django session and auth middleware", ("django/contrib/sessions/", "django/contrib/auth/")),
    ("our `$connect` (realtime/)", ("realtime/",)),
    ("our admission (realtime/admission)", ("realtime/admission",)),
    ("the package's view and models", ("django_aws_api_gateway_websockets/",)),
    ("ORM (querysets, models, SQL)", ("django/db/",)),
    ("ORM: SQL compilation", ("django/db/models/sql/",)),
    ("psycopg (execute, fetch)", ("psycopg/", "psycopg_pool/")),
    (
        "logging (structlog, logging, our access log and its redaction)",
        ("structlog/", "logging/", "observability/gunicorn_logger", "observability/redaction"),
    ),
    ("metrics (prometheus_client)", ("prometheus_client/", "observability/metrics")),
)


# Frames every request passes through (threads, the worker loop, Django's handler chain):
# their inclusive share is nearly everything and tells nothing, so the ranking skips them.
PLUMBING = (
    "threading.py",
    "concurrent/futures/",
    "gunicorn/workers/",
    "django/core/handlers/",
    "django/utils/deprecation.py",
)


@dataclass(frozen=True)
class Frame:
    function: str
    file: str

    def text(self) -> str:
        return f"`{self.function}` ({self.file})"


@dataclass(frozen=True)
class Share:
    name: str
    inclusive: float
    own: float


@dataclass(frozen=True)
class Summary:
    samples: int
    groups: tuple[Share, ...]
    # Ranked by inclusive share (plumbing left out), and by self share.
    functions: tuple[Share, ...]
    hottest: tuple[Share, ...]


def parse_frame(text: str) -> Frame | None:
    if text.startswith("process "):
        return None
    match = _FRAME.match(text)
    if match is None:
        return Frame(text, "?")
    return Frame(match["function"], match["file"])


def parse(lines: Iterable[str]) -> list[tuple[list[Frame], int]]:
    """Each line: frames outermost first, joined by ';', then a space and the count."""
    stacks = []
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [frame for text in stack.split(";") if (frame := parse_frame(text))]
        if frames:
            stacks.append((frames, int(count)))
    return stacks


def _in_group(frame: Frame, markers: tuple[str, ...]) -> bool:
    return any(marker in frame.file for marker in markers)


def summarise(stacks: list[tuple[list[Frame], int]], top: int = 15) -> Summary:
    total = sum(count for _frames, count in stacks)
    group_in, group_own, function_in, function_own = Counter(), Counter(), Counter(), Counter()
    for frames, count in stacks:
        for name, markers in GROUPS:
            if any(_in_group(frame, markers) for frame in frames):
                group_in[name] += count
            if _in_group(frames[-1], markers):
                group_own[name] += count
        # Once per stack however deep the recursion; outer first, so ties rank outer first.
        for frame in dict.fromkeys(frames):
            function_in[frame] += count
        function_own[frames[-1]] += count

    def share(counter: Counter, key) -> float:
        return 100 * counter[key] / total if total else 0.0

    groups = tuple(
        Share(name, share(group_in, name), share(group_own, name)) for name, _markers in GROUPS
    )

    def ranked(counter: Counter) -> tuple[Share, ...]:
        frames = [f for f, _n in counter.most_common() if not _in_group(f, PLUMBING)][:top]
        return tuple(
            Share(frame.text(), share(function_in, frame), share(function_own, frame))
            for frame in frames
        )

    return Summary(total, groups, ranked(function_in), ranked(function_own))


def markdown(summary: Summary) -> str:
    def table(title: str, shares: Iterable[Share]) -> str:
        rows = [f"| {title} | inclusive | self |", "|---|---|---|"]
        rows += [f"| {s.name} | {s.inclusive:.1f} % | {s.own:.1f} % |" for s in shares]
        return "\n".join(rows)

    ranked = sorted(summary.groups, key=lambda share: share.inclusive, reverse=True)
    return (
        f"{summary.samples:,} samples of the gunicorn workers holding the GIL (Python on the "
        "CPU; waits for PostgreSQL, the network or a lock are not in them).\n\n"
        + table("where the samples are", ranked)
        + "\n\n"
        + table(
            "functions with the largest inclusive share (request plumbing left out)",
            summary.functions,
        )
        + "\n\n"
        + table("functions with the largest self share", summary.hottest)
    )
