"""GraphiQL is served with every asset from the app itself, byte-identical to what the page's SRI expects."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from api import graphiql
from tests.conftest import GraphQLClient


class _Assets(HTMLParser):
    """(tag, url, integrity) of every `<script src>` and `<link href>`."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        url = values.get({"script": "src", "link": "href"}.get(tag, ""))
        if url:
            self.found.append((tag, url, values.get("integrity")))


def _assets(html: str) -> list[tuple[str, str, str | None]]:
    parser = _Assets()
    parser.feed(html)
    return parser.found


def _sri(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


async def _page(client: GraphQLClient) -> str:
    response = await client.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_page_assets_are_local_and_match_their_integrity(client: GraphQLClient) -> None:
    html = await _page(client)
    assert 'id="graphiql"' in html
    fetched = [(tag, url, sri) for tag, url, sri in _assets(html) if not url.startswith("data:")]
    assert len(fetched) == len(graphiql.VENDORED_ASSETS)
    for tag, url, integrity in fetched:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"<{tag}> loads {url} from another host"
        assert url.startswith("/graphiql-assets/")
        response = await client.http.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert integrity is not None, f"{url} lost its integrity attribute"
        assert _sri(response.content) == integrity, url


async def test_page_refers_to_no_other_host(client: GraphQLClient) -> None:
    html = await _page(client)
    urls = set(re.findall(r"(?:https?:)?//[\w-]+(?:\.[\w-]+)+", html))
    # The favicon's inline SVG names its XML namespace; that is never fetched.
    assert urls <= {"http://www.w3.org"}, urls


def test_vendored_css_loads_nothing_remote() -> None:
    for asset in graphiql.VENDORED_ASSETS:
        if asset.endswith(".css"):
            css = (graphiql.STATIC_DIR / asset).read_text(encoding="utf-8")
            assert "@import" not in css, asset
            # Fonts are inlined as data: URIs; anything else would be fetched.
            for url in re.findall(r"url\(\s*['\"]?([^'\")]*)", css):
                assert url.startswith(("data:", "#")), (asset, url[:80])


async def test_unknown_asset_is_404(client: GraphQLClient) -> None:
    response = await client.http.get("/graphiql-assets/graphiql@3.8.3/nope.js")
    assert response.status_code == 404


def test_changed_template_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    template = graphiql.get_graphql_ide_html("graphiql")
    monkeypatch.setattr(
        graphiql, "get_graphql_ide_html", lambda _ide: template.replace("graphiql@3.8.3", "graphiql@9.9.9")
    )
    with pytest.raises(RuntimeError, match=r"no longer loads https://unpkg\.com/graphiql@3\.8\.3/"):
        graphiql.graphiql_html()


def test_new_remote_reference_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    font = '<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Fira+Code" />'
    template = graphiql.get_graphql_ide_html("graphiql").replace("</head>", font + "</head>")
    monkeypatch.setattr(graphiql, "get_graphql_ide_html", lambda _ide: template)
    with pytest.raises(RuntimeError, match=r"fonts\.googleapis\.com"):
        graphiql.graphiql_html()


def test_the_example_operations_graphiql_opens_on_are_valid_against_the_schema() -> None:
    from graphql import parse, validate

    from api.graphiql import EXAMPLES
    from core.settings import Settings
    from schema import build_schema

    document = parse(EXAMPLES.read_text(encoding="utf-8"))
    errors = validate(build_schema(Settings())._schema, document)

    assert errors == []
    names = [d.name.value for d in document.definitions if getattr(d, "name", None)]  # type: ignore[attr-defined]
    assert names[:3] == ["SignIn", "Feed", "Search"] and "Checkout" in names
