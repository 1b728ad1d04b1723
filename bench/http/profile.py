"""Where a request's time goes: py-spy samples the server's workers while wrk sends one kind of request.

py-spy (PyPI, pinned in requirements.lock) reads each worker's Python stacks from outside the process,
`--nonblocking` so the workers never pause. A sample's leaf frame says what the worker was doing then;
the samples are grouped by area (the GraphQL engine, Vermilion's own layers, the database driver …) and
the functions most often seen anywhere on the stack are listed with their share. Sampling under load
slows the workers a little, so these windows are not timed: the figures of record stay the timed ones.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench.http.servers import Server
from bench.http.wrk import run_wrk

RATE = 250  # samples per second and worker
ROOT = str(Path(__file__).resolve().parents[2])
_EXECUTION = "Vermilion: execution and completion (schema/execution.py, completion.py)"
_SERVER = "HTTP server (uvicorn, starlette, httptools)"
# Leaf frames by where their file lives, first match wins: (area, pattern in the path). Installed
# libraries (site-packages, even inside the project's .venv) first, then Vermilion's own files.
LIBRARIES: list[tuple[str, str]] = [
    ("GraphQL engine (graphql-core)", "/graphql/"),
    ("Strawberry (view, extensions, resolver wrappers)", "/strawberry/"),
    ("asyncpg (driver, records)", "/asyncpg/"),
    ("Tortoise ORM (connections, fields)", "/tortoise/"),
    ("aiodataloader", "/aiodataloader/"),
    (_SERVER, "/uvicorn/"),
    (_SERVER, "/starlette/"),
    ("asyncio and uvloop (the event loop, waiting for sockets included)", "/uvloop/"),
]
# Frames every request passes through (the worker's process, the server, the ASGI stack): on almost every
# sample, they say nothing about where a request's time goes, so the stack table leaves them out.
SCAFFOLDING = ("/multiprocessing/", "/uvicorn/", "/asyncio/", "/starlette/", "/strawberry/asgi/", "<string>")
OWN: list[tuple[str, str]] = [
    (_EXECUTION, "/schema/execution.py"),
    (_EXECUTION, "/schema/completion.py"),
    ("Vermilion: loaders and types (schema/)", "/schema/"),
    ("Vermilion: SQL rows (core/sql.py)", "/core/sql.py"),
    ("Vermilion: rules and transport (core/, social/, feed/, search/, commerce/, api/)", "/"),
]
_FRAME = re.compile(r"^(?P<function>.*) \((?P<path>.*?)(?::\d+)?\)$")


def py_spy() -> str | None:
    """The py-spy next to this Python (the project's virtual environment), else on PATH."""
    here = Path(sys.executable).with_name("py-spy")
    return str(here) if here.exists() else shutil.which("py-spy")


def _area(path: str) -> str:
    if "site-packages/" in path:
        areas = LIBRARIES
    elif path.startswith(ROOT + "/"):
        areas, path = OWN, path[len(ROOT) :]
    elif "/asyncio/" in path:
        # uvloop's loop is C: waiting for sockets, and running callbacks, shows as `asyncio.run` itself.
        return "asyncio and uvloop (the event loop, waiting for sockets included)"
    else:
        return "Python itself and other libraries"
    for area, pattern in areas:
        if pattern in path:
            return area
    return "Python itself and other libraries"


def _frame(text: str) -> tuple[str, str]:
    """(function with its file, the file's path) of one frame of py-spy's raw format."""
    match = _FRAME.match(text)
    if match is None:
        return text, ""
    path = match.group("path")
    short = path.split("site-packages/")[-1].split(ROOT + "/")[-1].split("python3.11/")[-1]
    return f"{match.group('function')} ({short})", path


def summarise(raw: str, *, top: int = 15) -> dict[str, Any]:
    """Shares of the samples in py-spy's raw output ("frame;frame;… count" lines, outermost first)."""
    areas: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";") if f]
        if not frames:
            continue
        total += count
        leaf, leaf_path = frames[-1]
        areas[_area(leaf_path)] += count
        leaves[leaf] += count
        for name in {name for name, path in frames if not any(s in path for s in SCAFFOLDING)}:
            inclusive[name] += count

    def shares(counter: Counter[str], limit: int) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(limit)] if total else []

    return {
        "samples": total,
        "areas": shares(areas, len(areas)),
        "self": shares(leaves, top),
        "inclusive": shares(inclusive, top),
    }


def _read(directory: Path, outputs: list[Path]) -> list[str]:
    """The recorded outputs' text; the directory removed."""
    found = [output.read_text(errors="replace") for output in outputs if output.exists()]
    shutil.rmtree(directory, ignore_errors=True)
    return found


async def sample(server: Server, bodies: Path, *, connections: int, seconds: float) -> dict[str, Any]:
    """Every worker of `server` sampled for `seconds` while wrk sends `bodies`; their samples together."""
    spy = py_spy()
    if spy is None:
        return {"error": "py-spy is not installed (it is in requirements.lock: scripts/test installs it)"}
    directory = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    duration = max(1, round(seconds))
    recorders = []
    for pid in server.workers():
        output = directory / f"{pid}.txt"
        process = await asyncio.create_subprocess_exec(
            spy, "record", "--nonblocking", "--full-filenames", "--format", "raw", "--rate", str(RATE),
            "--duration", str(duration), "--output", str(output), "--pid", str(pid),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        recorders.append((process, output))
    await asyncio.sleep(0.5)  # py-spy attaches before the load starts
    result = await run_wrk(f"{server.base}/graphql", bodies, connections=connections, seconds=duration)
    errors = []
    for process, _ in recorders:
        _, stderr = await process.communicate()
        if process.returncode:
            errors.append(stderr.decode(errors="replace").strip()[-300:])
    raw = _read(directory, [output for _, output in recorders])
    if not raw:
        return {"error": "py-spy recorded nothing: " + "; ".join(errors)}
    return summarise("\n".join(raw)) | {"connections": connections, "seconds": duration, "rps": result.rps}
