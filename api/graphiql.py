"""GraphiQL served offline: Strawberry's page, with its CDN assets served from files vendored in the app.

The files under `api/static/graphiql/` are created by `scripts/vendor_graphiql.sh`. Production serves
neither the page nor its assets unless VERMILION_GRAPHIQL=true (`Settings.graphiql`).

The page teaches Vermilion: it opens on the README's operations (`api/static/graphiql-examples.graphql`:
sign in, feed, search, buy) instead of GraphiQL's welcome text, and once `signIn` or `signUp` answers with
a token it puts `{"Authorization": "Bearer …"}` in the Headers tab, so what follows runs signed in.
Subscriptions run over graphql-transport-ws on the same /graphql (the template's `subscriptionUrl`),
carrying the Headers tab as their connection_init payload, which is where the server reads the token.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from strawberry.http.ides import get_graphql_ide_html

CDN_PREFIX = "https://unpkg.com/"
ASSET_PREFIX = "/graphiql-assets/"
STATIC_DIR = Path(__file__).parent / "static" / "graphiql"
EXAMPLES = Path(__file__).parent / "static" / "graphiql-examples.graphql"

# Where the page is changed, as (what Strawberry's template holds, what replaces it). Each must be found
# exactly once: a Strawberry upgrade that moves them fails loudly instead of teaching nothing.
_FETCHER_WITH_TOKEN = """        // A token from signIn / signUp goes to the Headers tab.
        function rememberToken(value) {
          const data = value && value.data;
          const payload = data && (data.signIn || data.signUp);
          if (!payload || !payload.token) {
            return;
          }
          const signedIn = JSON.stringify({ Authorization: "Bearer " + payload.token }, null, 2);
          // GraphiQL reads its `headers` prop once; its header editor (the second of the editor tools:
          // variables, headers) takes the new value and tells GraphiQL.
          const tools = document.querySelectorAll(".graphiql-editor-tool .graphiql-editor");
          const editor = tools.length > 1 ? tools[1].querySelector(".CodeMirror") : null;
          if (editor && editor.CodeMirror) {
            editor.CodeMirror.setValue(signedIn);
          }
          setHeaders(signedIn);
        }
        function watched(result) {
          // A result, a promise of one, or an async iterable of them (the HTTP fetcher reads multipart
          // streams, so it answers with a promise of an async iterable).
          if (result && typeof result.then === "function") {
            return result.then(watched);
          }
          if (result && typeof result[Symbol.asyncIterator] === "function") {
            return (async function* () {
              for await (const value of result) {
                rememberToken(value);
                yield value;
              }
            })();
          }
          rememberToken(result);
          return result;
        }
        const teachingFetcher = React.useCallback(function (params, options) {
          return watched(fetcher(params, options));
        }, []);

        function onEditQuery(newQuery) {"""

# The fetcher of Strawberry's template sends subscriptions over WebSocket to the page's own URL.
_SUBSCRIPTION_URL = """      const fetcher = GraphiQL.createFetcher({
        url: fetchURL,
        headers: defaultHeaders,
        subscriptionUrl,
      });"""

# What Strawberry's template loads from the CDN, as `<package>@<version>/<path>`. GraphiQL 4+ no longer ships
# these UMD bundles, so a Strawberry upgrade that changes them must fail loudly rather than go blank.
VENDORED_ASSETS = (
    "react@18.2.0/umd/react.production.min.js",
    "react-dom@18.2.0/umd/react-dom.production.min.js",
    "js-cookie@3.0.5/dist/js.cookie.min.js",
    "graphiql@3.8.3/graphiql.min.css",
    "@graphiql/plugin-explorer@1.0.2/dist/style.css",
    "graphiql@3.8.3/graphiql.min.js",
    "@graphiql/plugin-explorer@1.0.2/dist/index.umd.js",
)

# The only absolute URL allowed to remain: the inline favicon's SVG namespace, which is never fetched.
_HARMLESS_URL_PREFIXES = ("http://www.w3.org/2000/svg",)
# Absolute or protocol-relative URLs naming a host.
_ANY_URL = re.compile(r"""(?:https?:)?//[\w-]+(?:\.[\w-]+)+[^\s"'<>)`]*""")
_CACHE_FOREVER = "public, max-age=31536000, immutable"


class _AssetTags(HTMLParser):
    """Collects (url, integrity) of every `<script src>` and `<link href>`."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        url = values.get("src") if tag == "script" else values.get("href") if tag == "link" else None
        if url:
            self.assets.append((url, values.get("integrity")))


def asset_tags(html: str) -> list[tuple[str, str | None]]:
    """(url, integrity) of each script and link tag of a page, in document order."""
    parser = _AssetTags()
    parser.feed(html)
    parser.close()
    return parser.assets


def cdn_assets(html: str) -> list[tuple[str, str | None]]:
    """(`<package>@<version>/<path>`, integrity) of each CDN asset of a page; used by the vendoring script."""
    return [
        (url.removeprefix(CDN_PREFIX), sri) for url, sri in asset_tags(html) if url.startswith(CDN_PREFIX)
    ]


def _teaching(html: str) -> str:
    """The page opening on Vermilion's operations, and signing in with the token signIn returns."""
    start = html.index("const EXAMPLE_QUERY = `")
    end = html.index("`;", start)
    # Inside a JavaScript template literal: backslashes, backquotes and ${ are escaped.
    examples = EXAMPLES.read_text(encoding="utf-8")
    examples = examples.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    html = html[:start] + "const EXAMPLE_QUERY = `" + examples + html[end:]
    edits = [
        ("        function onEditQuery(newQuery) {", _FETCHER_WITH_TOKEN),
        ("          fetcher: fetcher,", "          fetcher: teachingFetcher,"),
        # Not changed, only required: without a subscription URL GraphiQL cannot run a subscription
        # ("not properly configured for websocket subscriptions"); with it, subscriptions go over
        # graphql-ws to this same /graphql, the Headers tab as the connection_init payload.
        (_SUBSCRIPTION_URL, _SUBSCRIPTION_URL),
    ]
    for anchor, replacement in edits:
        if html.count(anchor) != 1:
            raise RuntimeError(f"GraphiQL template changed: {anchor!r} is not there once (api/graphiql.py)")
        html = html.replace(anchor, replacement)
    return html


def graphiql_html() -> str:
    """Strawberry's GraphiQL page with every CDN URL pointing at the vendored copy, teaching Vermilion's
    operations (`_teaching`); raises if either fails."""
    html = _teaching(get_graphql_ide_html("graphiql"))
    for asset in VENDORED_ASSETS:
        url = CDN_PREFIX + asset
        if url not in html:
            raise RuntimeError(
                f"GraphiQL template no longer loads {url}: update VENDORED_ASSETS and re-vendor"
            )
        if not (STATIC_DIR / asset).is_file():
            raise RuntimeError(f"{STATIC_DIR / asset} is missing: run scripts/vendor_graphiql.sh")
        html = html.replace(url, ASSET_PREFIX + asset)
    # Any URL left (an asset, a font, an analytics snippet) would make the page reach outside the machine.
    remote = sorted({u for u in _ANY_URL.findall(html) if not u.startswith(_HARMLESS_URL_PREFIXES)})
    if remote:
        raise RuntimeError(f"GraphiQL page still refers to remote URLs: {remote}")
    for url, _ in asset_tags(html):
        if not url.startswith((ASSET_PREFIX, "data:")):
            raise RuntimeError(f"GraphiQL page loads {url}, which is not vendored")
    return html


class _ImmutableStaticFiles(StaticFiles):
    """Static files cached for a year: every path carries its package version, so content never changes."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = _CACHE_FOREVER
        return response


def graphiql_routes() -> list[BaseRoute]:
    """The route serving the vendored GraphiQL assets; mounted only when `Settings.graphiql` is on."""
    return [
        Mount(ASSET_PREFIX.rstrip("/"), _ImmutableStaticFiles(directory=STATIC_DIR), name="graphiql-assets")
    ]
