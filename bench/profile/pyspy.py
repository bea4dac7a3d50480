"""py-spy (the dev extra installs it into the virtualenv) recording the gunicorn workers of
one replica: ``--subprocesses`` on the master follows its workers. ``--gil`` keeps only the
samples of a thread holding the GIL, i.e. Python running on the CPU: a thread waiting for
PostgreSQL (psycopg's wait releases the GIL) would otherwise fill a third of the samples, and
the question is where the CPU goes. ``--nonblocking`` reads the workers without stopping them
200 times a second, so the load they serve is the benchmark's. py-spy reads other processes'
memory: it needs root or CAP_SYS_PTRACE."""

import asyncio
import shutil
import sys
from pathlib import Path

from devtools.console import say

SAMPLES_PER_SECOND = 200


class PySpyMissing(RuntimeError):
    """py-spy is not installed next to this interpreter nor on PATH."""


def executable() -> str:
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise PySpyMissing("py-spy not found: install the dev extra (make install)")
    return found


async def record(master_pid: int, seconds: float, output: Path, form: str) -> None:
    """One recording of ``seconds`` into ``output`` (``raw`` collapsed stacks or ``flamegraph``
    SVG); functions aggregated by their first line, so a function is one frame."""
    command = [executable(), "record", "--pid", str(master_pid), "--subprocesses", "--function"]
    command += ["--rate", str(SAMPLES_PER_SECOND), "--duration", str(max(1, round(seconds)))]
    command += ["--format", form, "--output", str(output), "--nonblocking", "--gil"]
    say(f"py-spy: {form} for {seconds:.0f} s into {output}")
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    printed, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"py-spy failed ({process.returncode}): {printed.decode()[-2000:]}")
