# shellcheck shell=bash
# Sourced by scripts/test: node_modules with the pinned Node tools of package-lock.json (graphql-schema-linter; the JavaScript clients the client tests drive).
# Re-installs (npm ci) only when node_modules is missing or package-lock.json or package.json changed since.

ensure_node_modules() {
  local stamp want
  if ! command -v npm >/dev/null 2>&1; then
    echo "ensure_node_modules: Node.js and npm are required (graphql-schema-linter checks schema.graphql)." >&2
    return 1
  fi
  stamp=node_modules/.vermilion-installed
  want=$(cat package-lock.json package.json | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing pinned Node tools (package-lock.json)"
    npm ci --no-audit --no-fund || return 1
    echo "$want" >"$stamp"
  fi
}
