"""Password hashing (argon2, tens of milliseconds of CPU a check) never holds the event loop."""

from __future__ import annotations

import asyncio

from app.core.security import hash_password, verify_password


async def test_checks_run_beside_the_event_loop() -> None:
    stored = await hash_password("correct horse")
    beats = 0

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            beats += 1
            await asyncio.sleep(0.001)

    beating = asyncio.create_task(heartbeat())
    results = [await verify_password(stored, guess) for guess in ("correct horse", "wrong", "wrong again")]
    beating.cancel()
    assert results == [True, False, False]
    assert await verify_password(None, "anything") is False
    # Three argon2 checks on the loop itself would leave it no turn in between; beside it, it beats on.
    assert beats >= 10, beats
