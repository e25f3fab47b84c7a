"""CPU time of processes from ``/proc``: gunicorn workers and PostgreSQL backends.

Application CPU is the user+sys time of a gunicorn master's worker
processes (its children); database CPU is the user+sys time of the
PostgreSQL processes that ``pg_stat_activity`` lists for one database
(client backends), plus, apart, the server's background processes
(walwriter, background writer, checkpointer, autovacuum), which serve the
whole server. The server's WAL position is read at the same moments (bytes
of WAL written in between, server-wide too). A snapshot maps pid to
seconds; the delta of two snapshots counts a pid that appeared in between
from zero and drops a pid that left.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.envs import MFA

_TICKS = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")

#: Asks PostgreSQL (through the trench_mfa venv's psycopg, from the
#: ``postgres`` maintenance database, so this connection is not counted)
#: which pids serve the database in argv[1], which are its background
#: processes, and the server's WAL position in bytes.
_PG_PIDS = """\
import json, os, sys, psycopg
h, _, p = os.environ.get('BENCH_PG', '127.0.0.1:5432').partition(':')
u = os.environ.get('BENCH_PG_USER', 'postgres')
with psycopg.connect(host=h, port=p or '5432', user=u, dbname='postgres') as c:
    rows = c.execute(
        "SELECT pid, datname = %s AND backend_type = 'client backend' FROM pg_stat_activity"
        " WHERE datname = %s OR (datname IS NULL AND backend_type <> 'client backend')",
        (sys.argv[1], sys.argv[1]),
    ).fetchall()
    wal = c.execute("SELECT pg_current_wal_lsn() - '0/0'").fetchone()[0]
print(json.dumps({'db': [r[0] for r in rows if r[1]], 'bg': [r[0] for r in rows if not r[1]],
                  'wal': int(wal)}))
"""


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name, or None if gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces or ')'.
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` so far (None when it is gone)."""
    fields = _stat(pid)
    if fields is None:
        return None
    # Fields 14 (utime) and 15 (stime) of proc(5); ``fields`` starts at field 3.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children(parent: int) -> list[int]:
    """Pids whose parent is ``parent`` (a gunicorn master's workers)."""
    found = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def snapshot(pids: list[int]) -> dict[int, float]:
    """``{pid: CPU seconds}`` of the pids still alive."""
    out = {}
    for pid in pids:
        seconds = cpu_seconds(pid)
        if seconds is not None:
            out[pid] = seconds
    return out


def delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two snapshots by the pids alive at the end."""
    return float(sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in after.items()))


def pg_pids(database: str) -> dict[str, Any]:
    """``{"db": client backends of database, "bg": background processes, "wal": bytes}``."""
    result = subprocess.run(  # noqa: S603 - our own argv
        [str(MFA.python), "-c", _PG_PIDS, database],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"reading pg_stat_activity failed:\n{result.stderr}")
    pids: dict[str, Any] = json.loads(result.stdout)
    return pids


@dataclass
class Meter:
    """CPU of one round: a gunicorn master's workers and one database's backends."""

    master: int
    database: str

    def start(self) -> None:
        """Take the first snapshots (just before the load starts)."""
        pg = pg_pids(self.database)
        self._app = snapshot(children(self.master))
        self._db = snapshot(pg["db"])
        self._bg = snapshot(pg["bg"])
        self._wal = int(pg["wal"])

    def stop(self) -> dict[str, float]:
        """Since :meth:`start`: CPU seconds ``app``, ``db``, ``bg``; ``wal`` bytes.

        ``bg`` and ``wal`` are server-wide: other databases' work shows up there.
        """
        app = snapshot(children(self.master))
        # Reading the known pids first keeps the helper's start-up out of the
        # window; pids that appeared during the round are added after.
        db, bg = snapshot(list(self._db)), snapshot(list(self._bg))
        pg = pg_pids(self.database)
        db.update(snapshot([p for p in pg["db"] if p not in db]))
        bg.update(snapshot([p for p in pg["bg"] if p not in bg]))
        return {
            "app": delta(self._app, app),
            "db": delta(self._db, db),
            "bg": delta(self._bg, bg),
            "wal": float(pg["wal"] - self._wal),
        }
