"""GraphiQL is served entirely by the application: no asset comes from another host."""

from __future__ import annotations

import re

import httpx

from app.graphql.graphiql import ASSETS

ASSET_URL = re.compile(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"')


async def _page(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get("/graphql", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    return page


async def test_page_names_no_other_host(client: httpx.AsyncClient) -> None:
    page = await _page(client)
    assert re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+", page.text) == []
    assert "graphiql-page.js" in page.text  # the bootstrap is a local file, not an inline script
    assert "<script>" not in page.text


async def test_every_referenced_asset_is_served_with_its_type(client: httpx.AsyncClient) -> None:
    page = await _page(client)
    urls = ASSET_URL.findall(page.text)
    assert len(urls) == 8 and all(url.startswith("/graphql/assets/") for url in urls)
    for url in urls:
        response = await client.get(url, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200, url
        kind = "text/javascript" if url.endswith(".js") else "text/css"
        assert response.headers["content-type"].startswith(kind), url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert len(response.content) > 150, url
    sizes = {u.rsplit("/", 1)[1]: len((await client.get(u)).content) for u in urls}
    assert sizes["graphiql.min.js"] > 1_000_000 and sizes["react-dom.production.min.js"] > 100_000


async def test_assets_are_compressed_for_clients_that_accept_gzip(client: httpx.AsyncClient) -> None:
    bundle = ASSETS["graphiql.min.js"]
    raw = await client.get(bundle.url, headers={"Accept-Encoding": "identity"})
    compressed = await client.get(bundle.url, headers={"Accept-Encoding": "gzip, br"})
    assert compressed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in compressed.headers["vary"]
    assert int(compressed.headers["content-length"]) < len(raw.content) / 3
    assert compressed.content == raw.content  # httpx decoded it


async def test_only_listed_assets_at_their_digest_are_served(client: httpx.AsyncClient) -> None:
    bundle = ASSETS["graphiql.min.js"]
    stale = await client.get(f"/graphql/assets/{'0' * 16}/graphiql.min.js")
    assert (stale.status_code, stale.json()["error"]["code"]) == (404, "route_not_found")
    for name in ("README.md", "licenses/react.LICENSE", "..%2Fgraphiql.py", "..%2F..%2Fsettings.py"):
        response = await client.get(f"/graphql/assets/{bundle.digest}/{name}")
        assert response.status_code == 404, name


async def test_page_policy_allows_only_this_origin(client: httpx.AsyncClient) -> None:
    page = await _page(client)
    host = client.base_url.host
    policy = dict(
        directive.strip().split(" ", 1) for directive in page.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["connect-src"] == f"'self' ws://{host} wss://{host}"
    assert policy["frame-ancestors"] == "'none'"
    sources = " ".join(policy.values()).split()
    assert all(s.startswith("'") or s in {"data:", f"ws://{host}", f"wss://{host}"} for s in sources)


async def test_a_forged_host_does_not_reach_the_policy(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html", "Host": "evil.example; script-src *"})
    assert page.headers["content-security-policy"].count("script-src") == 1
    assert "connect-src 'self';" in page.headers["content-security-policy"]
