"""The drill's figures as the Markdown table docs/reliability.md holds: one column per fault."""

ROWS = [
    ("lasted (s)", lambda f: f["duration_s"]),
    ("machine load (1 min) at its start", lambda f: f["machine_load_1m_at_start"]),
    ("handshakes failed during / after", lambda f: _pair(f["handshakes_failed"])),
    ("clients dropped", lambda f: f["clients_dropped"]),
    ("pings lost during", lambda f: _of(f["pings"]["during"])),
    ("pings lost after", lambda f: _of(f["pings"]["after"])),
    ("s until no ping was lost", lambda f: f["s_until_no_ping_lost"]),
    ("s until every client was served again", lambda f: f["s_until_every_client_served"]),
    ("broadcasts accepted", lambda f: f["broadcasts"]["accepted"]),
    ("broadcasts refused on the way", lambda f: f["broadcasts"]["refused_or_lost_on_the_way"]),
    ("connected clients that missed one", lambda f: f["broadcasts"]["clients_missing_one"]),
    ("duplicates (allowed)", lambda f: _dup(f["broadcasts"])),
    ("5xx by route", lambda f: _routes(f["http_5xx_by_route"])),
    ("containers restarted", lambda f: _routes(f["container_restarts"])),
    ("liveness would restart", lambda f: ", ".join(f["liveness_would_restart"]) or "none"),
    ("s until ready (web1, web2)", lambda f: _pair(f["s_until_ready"])),
]


def _pair(values: dict) -> str:
    return " / ".join(str(v) for v in values.values())


def _of(counts: dict) -> str:
    return f"{counts['lost']} of {counts['sent']}"


def _dup(broadcasts: dict) -> str:
    return f"{broadcasts['connections_with_a_duplicate']} ({broadcasts['duplicates_allowed']})"


def _routes(counts: dict) -> str:
    return "<br>".join(f"{route}: {n}" for route, n in counts.items()) or "none"


def markdown(figures: dict) -> str:
    faults = figures["faults"]
    lines = [
        "| | " + " | ".join(f"`{f['fault']}`" for f in faults) + " |",
        "|---" * (len(faults) + 1) + "|",
    ]
    lines += [
        f"| {name} | " + " | ".join(str(cell(f)) for f in faults) + " |" for name, cell in ROWS
    ]
    return "\n".join(lines)
