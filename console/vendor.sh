#!/usr/bin/env bash
# Fetches the admin console's third-party assets from the npm registry at
# pinned versions and writes them to console/assets/vendor, where the Go
# build embeds them (the Go build itself never needs npm). With --check it
# verifies that the committed files are exactly what the registry serves.
set -euo pipefail
cd "$(dirname "$0")"
out=assets/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent graphiql@4.1.2 react@18.2.0 react-dom@18.2.0 >/dev/null)
for t in "$work"/*.tgz; do tar xzf "$t" -C "$work" --one-top-level="$(basename "$t" .tgz)"; done
fetched="$work/vendor"
mkdir -p "$fetched"
cp "$work/react-18.2.0/package/umd/react.production.min.js" "$fetched/react.production.min.js"
cp "$work/react-dom-18.2.0/package/umd/react-dom.production.min.js" "$fetched/react-dom.production.min.js"
# Drop the source-map comment: the map is not shipped, and nothing may be
# fetched from elsewhere.
sed '/^\/\/# sourceMappingURL=/d' "$work/graphiql-4.1.2/package/graphiql.min.js" > "$fetched/graphiql.min.js"
sed 's|/\*# sourceMappingURL=[^*]*\*/||' "$work/graphiql-4.1.2/package/graphiql.min.css" > "$fetched/graphiql.min.css"
cp "$work/graphiql-4.1.2/package/LICENSE" "$fetched/GRAPHIQL-LICENSE"
if [ "${1:-}" = "--check" ]; then
  diff -r "$fetched" "$out" && echo "console vendor assets match the npm registry"
  exit
fi
rm -rf "$out" && cp -r "$fetched" "$out"
echo "wrote $(ls "$out" | wc -l) files to console/$out"
