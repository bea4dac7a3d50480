"""What every scenario works with: the stack, the plan, the browsers, the figures."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bench.load.browsers import Browser, issue_tokens
from bench.plan import Plan
from bench.report.figures import Figures
from bench.stack import pinning
from bench.stack.pinning import Placement
from bench.stack.stack import Stack

T = TypeVar("T")


@dataclass
class Bench:
    stack: Stack
    plan: Plan
    figures: Figures
    browsers: list[Browser] = field(default_factory=list)
    # Where the parties run for the figures the targets use, and for the unpinned ones.
    pinned: Placement = field(default_factory=lambda: pinning.split(pinning.allowed_cpus()))
    unpinned: Placement = field(default_factory=lambda: pinning.unpinned(pinning.allowed_cpus()))

    async def in_thread(self, function: Callable[..., T], *args) -> T:
        """The ORM and /proc reads are synchronous: keep them off the event loop."""
        return await asyncio.to_thread(function, *args)

    async def tokens(self, count: int) -> list[str]:
        return await self.in_thread(issue_tokens, self.browsers, count)
