"""Export throughput and memory: `GET /api/v1/missions/export` of 100,000 missions as CSV (and JSON).

    python bench/missions_export.py [--rows 100000] [--format csv|json|both]

Brings up embedded PostgreSQL and Redis, creates one company with `--rows` missions (written with
COPY as in bench/missions_bulk.py, so seeding is quick), serves the real application in a
single-worker uvicorn subprocess and streams the export once to warm up and once measured, reading
the body as it arrives. Meanwhile a sampler reads the server process's resident memory every 20 ms
(psutil). Prints rows/second and the peak RSS growth over the server's resident memory just before
the request (target: < 100 MB): an export that held its rows in memory would grow with the row count.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from branches_list import Server, bootstrap, real_server, scratch_dir  # noqa: E402
from missions_bulk import copy_records, mission_body, run_copy, seed  # noqa: E402

TARGET_GROWTH_MB = 100.0


class PeakRss:
    """Samples a process's resident set size in a background thread until stopped."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.every = every
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.every)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 1024 / 1024


def stream_export(server: Server, token: str, fmt: str) -> tuple[int, int, float]:
    """(rows, bytes, seconds) of one streamed export, read chunk by chunk as it arrives."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    newlines = size = 0
    started = time.perf_counter()
    with (
        httpx.Client(base_url=server.url, timeout=600) as http,
        http.stream("GET", "/api/v1/missions/export", params={"format": fmt}, headers=headers) as response,
    ):
        response.raise_for_status()
        tail = b""
        for chunk in response.iter_bytes():
            size += len(chunk)
            newlines += chunk.count(b"\n")
            tail = (tail + chunk)[-64:]
    seconds = time.perf_counter() - started
    if fmt == "csv":
        # Quoted notes may hold newlines, so the count is checked against the seeded rows by the caller.
        rows = newlines - 1
    else:
        rows = -1  # JSON rows are counted by the caller's expectations; the body is not parsed here
        if not tail.endswith(b"]}"):
            raise RuntimeError("the JSON export did not end with ]}")
    return rows, size, seconds


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000, help="missions to export (default 100000)")
    parser.add_argument("--format", choices=("csv", "json", "both"), default="both")
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be positive")
    return args


def main() -> int:
    args = parse_args()
    data_dir = scratch_dir()
    print(f"services: embedded PostgreSQL + Redis in {data_dir}")
    services = bootstrap(data_dir)
    company_id, branch_id, token = asyncio.run(seed())
    started = time.monotonic()
    records = copy_records(company_id, [mission_body(branch_id, "x", n) for n in range(args.rows)])
    dsn = services.owner_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    asyncio.run(run_copy(dsn, {"mission": records}, 10_000))
    del records
    print(f"seeded {args.rows:,} missions in {time.monotonic() - started:.1f}s")

    server = real_server(services, data_dir)
    formats = ["csv", "json"] if args.format == "both" else [args.format]
    failed = False
    try:
        server.start()
        server.wait_ready({"Authorization": f"Bearer {token}"}, "?limit=1")
        assert server.proc is not None
        print(f"real: {server.url} (rest_compat.asgi:app via bench/real_app.py), single uvicorn worker")
        for fmt in formats:
            stream_export(server, token, fmt)  # warm-up: imports, pool, first allocations
            with PeakRss(server.proc.pid) as rss:
                rows, size, seconds = stream_export(server, token, fmt)
            if fmt == "csv" and rows != args.rows:
                raise RuntimeError(f"expected {args.rows} CSV rows, got {rows}")
            verdict = "PASS" if rss.growth_mb < TARGET_GROWTH_MB else "ABOVE TARGET"
            failed |= rss.growth_mb >= TARGET_GROWTH_MB
            print(
                f"  {fmt:<4} {args.rows:,} rows, {size / 1024 / 1024:.1f} MB in {seconds:.2f}s ="
                f" {args.rows / seconds:,.0f} rows/s; server RSS {rss.baseline / 1024 / 1024:.0f} MB before,"
                f" peak growth {rss.growth_mb:.1f} MB (target < {TARGET_GROWTH_MB:g} MB: {verdict})"
            )
        return 1 if failed else 0
    finally:
        server.stop()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: server stopped", file=sys.stderr)
        sys.exit(130)
