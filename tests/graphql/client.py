from __future__ import annotations

from typing import Any

import httpx

# What the tests read of a refused mutation (a typed result): `... Refusal` in any document.
REFUSAL = "fragment Refusal on MutationError { __typename code message details }"


def document(query: str) -> str:
    """The query, with the `Refusal` fragment defined when it uses it."""
    return f"{query}\n{REFUSAL}" if "...Refusal" in query and "fragment Refusal" not in query else query


async def gql(
    client: httpx.AsyncClient,
    credential: str,
    query: str,
    variables: dict[str, Any] | None = None,
    **headers: str,
) -> httpx.Response:
    return await client.post(
        "/graphql",
        json={"query": document(query), "variables": variables or {}},
        headers={"Authorization": f"Bearer {credential}", **headers},
    )


def refusal(response: httpx.Response, field: str) -> dict[str, Any]:
    """The typed refusal a mutation answered (`__typename`, `code`, `message`, `details`)."""
    body = response.json()
    assert "errors" not in body, body
    answer: dict[str, Any] = body["data"][field]
    assert "code" in answer, answer
    return answer


def error_of(response: httpx.Response) -> dict[str, Any]:
    """What went wrong: a mutation's typed refusal (with its `__typename`), else the first top-level
    error's `extensions` (authentication, scope, queries' not found...)."""
    body = response.json()
    if "errors" in body:
        return body["errors"][0]["extensions"]  # type: ignore[no-any-return]
    refusals = [v for v in body["data"].values() if isinstance(v, dict) and "code" in v and "__typename" in v]
    assert refusals, body
    return refusals[0]  # type: ignore[no-any-return]
