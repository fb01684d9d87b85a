"""hypothesis-graphql against /graphql: queries and mutations generated from the schema, sent with
a full_access API token. Whatever the document, the answer is no 5xx and a well-formed GraphQL
response whose errors carry the contract's codes, never `internal_error`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from app.core import errors
from app.graphql.schema import schema
from tests.fuzz.conftest import EXAMPLES, World

CODES = {
    kind.code
    for kind in vars(errors).values()
    if isinstance(kind, type) and issubclass(kind, errors.DomainError)
} - {"internal_error"}
SDL = str(schema)
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES * 8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    # The failing document is in the message; shrinking it would cost more than the run.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def _scalars(world_ids: list[str]) -> dict[str, st.SearchStrategy[Any]]:
    """Values of the custom scalars: well-formed ones, with ids of the company's records among them."""
    ids = st.sampled_from(world_ids) | st.uuids().map(str)
    return {
        "UUID": ids.map(nodes.String),
        "Date": st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)).map(lambda d: nodes.String(d.isoformat())),
        "DateTime": st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1)).map(
            lambda moment: nodes.String(moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
        ),
        "TimeOfDay": st.times().map(lambda t: nodes.String(t.strftime("%H:%M"))),
        "JSON": st.sampled_from(["{}", "[]", "1", '"x"']).map(nodes.String),
    }


def _check(response: httpx.Response, document: str) -> None:
    assert response.status_code < 500, f"{response.text}\n{document}"
    body = response.json()
    if response.status_code != 200:
        # Refused before execution (auth, size, body): the contract's envelope.
        assert set(body) == {"error"} and body["error"]["code"] in CODES, body
        return
    assert set(body) <= {"data", "errors", "extensions"} and ("data" in body or "errors" in body), body
    for error in body.get("errors", []):
        assert isinstance(error["message"], str), error
        extensions = error["extensions"]
        assert extensions["code"] in CODES, error
        assert extensions["requestId"].startswith("req_"), error


def _fuzz(world: World, documents: st.SearchStrategy[Any]) -> None:
    headers = world.tenant.headers("write")
    with httpx.Client(base_url=world.base_url, timeout=60) as http:

        @FUZZ_SETTINGS
        @given(document=documents)
        def run(document: str) -> None:
            _check(http.post("/graphql", json={"query": document}, headers=headers), document)

        run()


def _ids(world: World) -> list[str]:
    return [record_id for ids in world.ids.values() for record_id in ids] + [str(uuid.uuid4())]


def test_queries(fuzz_world: World) -> None:
    _fuzz(fuzz_world, queries(SDL, custom_scalars=_scalars(_ids(fuzz_world))))


def test_mutations(fuzz_world: World) -> None:
    _fuzz(fuzz_world, mutations(SDL, custom_scalars=_scalars(_ids(fuzz_world))))
