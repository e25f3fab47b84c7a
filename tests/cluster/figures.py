"""The figures of each cluster case, printed at the end of the test run.

Each case records its requests and what they got; ``conftest.py`` prints
the table in pytest's terminal summary (docs/security.rst, "What is
tested", quotes it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tests.cluster.load import Reply


@dataclass(frozen=True)
class Figure:
    """One case: how many requests, how many succeeded, the other answers by status."""

    case: str
    requests: int
    successes: int
    others: Counter[int]

    def row(self) -> str:
        """The case as a line of the table."""
        others = ", ".join(f"{count} x {status}" for status, count in sorted(self.others.items()))
        return f"{self.case:<58} {self.requests:>8} {self.successes:>9}  {others or '-'}"


#: Every case recorded in this run, in order.
FIGURES: list[Figure] = []


def record(case: str, replies: Sequence[Reply], success: int | None = None) -> Figure:
    """Record ``replies`` under ``case``; a success is a 2xx (or exactly ``success``)."""

    def succeeded(reply: Reply) -> bool:
        return reply.status == success if success is not None else 200 <= reply.status < 300

    figure = Figure(
        case=case,
        requests=len(replies),
        successes=sum(1 for r in replies if succeeded(r)),
        others=Counter(r.status for r in replies if not succeeded(r)),
    )
    FIGURES.append(figure)
    return figure


def table() -> list[str]:
    """The recorded figures as lines of text, with a header."""
    header = f"{'case':<58} {'requests':>8} {'successes':>9}  other answers"
    return [header, "-" * len(header), *(figure.row() for figure in FIGURES)]
