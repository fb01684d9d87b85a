from __future__ import annotations

from typing import Any

import httpx


async def gql(
    client: httpx.AsyncClient,
    credential: str,
    query: str,
    variables: dict[str, Any] | None = None,
    **headers: str,
) -> httpx.Response:
    return await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {credential}", **headers},
    )
