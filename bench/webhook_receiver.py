"""A webhook receiver for bench/webhooks.py: answers 200 at once and remembers when each delivery
arrived (wall clock, by the delivered record's externalId). Serve with:
  uvicorn --app-dir bench webhook_receiver:app

GET /stats answers {"count", "arrivals": {externalId: unix seconds}}; POST /reset forgets everything;
any other POST is a delivery.
"""

from __future__ import annotations

import json
import time
from typing import Any

arrivals: dict[str, float] = {}
count = 0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global count
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = b"{}"
    if scope["method"] == "GET" and scope["path"] == "/stats":
        answer = json.dumps({"count": count, "arrivals": arrivals}).encode()
    elif scope["path"] == "/reset":
        arrivals.clear()
        count = 0
    else:
        count += 1
        key = (json.loads(body).get("data") or {}).get("externalId")
        if key is not None:
            arrivals.setdefault(key, time.time())
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})
