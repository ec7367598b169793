#!/usr/bin/env sh
# Runs the handler's jest suite against the lowest @grpc/grpc-js of the declared peer range
# (serveUnknownServices hooks grpc-js internals, so both ends of the range are tested in CI; the
# newest is what the workspace installs). The copy is installed once into a cache directory
# outside the repository. Extra arguments go to jest.
#   GRPC_JS_VERSION  version to test (default: the peer range's floor, e.g. 1.11 for ^1.11.0)
#   GRPC_JS_CACHE    where to install it (default: $TMPDIR/grpc-proxy-grpc-js-<version>)
set -eu
cd "$(dirname "$0")/.."
floor=$(node -p "require('./package.json').peerDependencies['@grpc/grpc-js'].replace(/^[^0-9]*/, '').split('.').slice(0, 2).join('.')")
version="${GRPC_JS_VERSION:-$floor}"
cache="${GRPC_JS_CACHE:-${TMPDIR:-/tmp}/grpc-proxy-grpc-js-$version}"
if [ ! -f "$cache/node_modules/@grpc/grpc-js/package.json" ]; then
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --no-package-lock "@grpc/grpc-js@$version" >&2
fi
dir="$cache/node_modules/@grpc/grpc-js"
echo "handler tests against @grpc/grpc-js $(node -p "require('$dir/package.json').version") ($dir)" >&2
GRPC_JS_DIR="$dir" exec npx jest "$@"
