#!/usr/bin/env bash
# Re-create api/static/graphiql/ from npm: the exact files Strawberry's GraphiQL page loads from unpkg,
# laid out as <package>@<version>/<path>, each checked against the page's SHA-384 integrity attribute.
#
# Usage: scripts/vendor_graphiql.sh   (needs npm and the project's venv; PYTHON overrides the interpreter)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
dest="$root/api/static/graphiql"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

die() {
    echo "vendor_graphiql: $*" >&2
    exit 1
}

command -v npm >/dev/null || die "npm is required"

# "<package>@<version>/<path> <integrity>" per asset, read from the installed Strawberry's template.
assets="$(cd "$root" && "$python" -c '
from strawberry.http.ides import get_graphql_ide_html
from api.graphiql import cdn_assets
for asset, integrity in cdn_assets(get_graphql_ide_html("graphiql")):
    print(asset, integrity or "-")
')"
[[ -n $assets ]] || die "the GraphiQL template references no CDN assets"

sha384() {
    "$python" -c 'import base64, hashlib, sys
print("sha384-" + base64.b64encode(hashlib.sha384(open(sys.argv[1], "rb").read()).digest()).decode())' "$1"
}

staging="$work/graphiql"
while read -r asset integrity; do
    # "@scope/name@1.2.3/dist/x.js" -> spec "@scope/name@1.2.3", path "dist/x.js"
    if [[ $asset =~ ^((@[^/]+/)?[^/@]+@[^/]+)/(.+)$ ]]; then
        spec="${BASH_REMATCH[1]}"
        path="${BASH_REMATCH[3]}"
    else
        die "cannot parse asset URL path: $asset"
    fi
    [[ $path != *..* ]] || die "refusing path with '..': $asset"
    [[ $integrity == sha384-* ]] || die "$asset has no sha384 integrity attribute in the template"

    # One tarball per package, even when several of its files are used.
    pkg="$work/pkg/${spec//\//_}"
    if [[ ! -d $pkg ]]; then
        mkdir -p "$pkg"
        (cd "$pkg" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed"
        tar -xzf "$pkg"/*.tgz -C "$pkg"
    fi

    src="$pkg/package/$path"
    [[ -f $src ]] || die "$spec has no file $path"
    actual="$(sha384 "$src")"
    [[ $actual == "$integrity" ]] || die "$asset: SHA-384 $actual does not match the template's $integrity"

    mkdir -p "$(dirname "$staging/$asset")"
    cp "$src" "$staging/$asset"
    echo "vendored $asset"
done <<<"$assets"

# Replace the folder only once every file checked out.
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$staging" "$dest"
echo "vendor_graphiql: $(find "$dest" -type f | wc -l) files in ${dest#"$root"/}"
