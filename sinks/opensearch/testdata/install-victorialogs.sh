#!/usr/bin/env bash
# Installs VictoriaLogs (the bulk-API peer of sinks/opensearch's
# TestVictoriaLogs; see shared/peers/README.md, "OpenSearch-compatible")
# into DIR and prints the binary's path, for LOGROUTER_VLOGS:
#
#   export LOGROUTER_VLOGS=$(bash sinks/opensearch/testdata/install-victorialogs.sh "$HOME/.cache/logrouter/bin")
#
# Idempotent: when DIR already holds this version it only prints the path.
# Tries `go install PKG@VERSION` (about 25 s), then a wrapper module
# (VLOGS_WRAPPER=1 forces that way). Progress goes to stderr, the path alone
# to stdout.
# usage: install-victorialogs.sh DIR
set -euo pipefail
version=v1.52.1
mod=github.com/VictoriaMetrics/VictoriaLogs
pkg=$mod/app/victoria-logs
dir=${1:?usage: install-victorialogs.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin=$dir/victoria-logs-$version
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok=
if [ -z "${VLOGS_WRAPPER:-}" ]; then
  echo "install-victorialogs: go install $pkg@$version" >&2
  # Outside any module, so that the repository's go.mod plays no part.
  if (cd "$tmp" && GOBIN="$tmp/bin" GOFLAGS= go install "$pkg@$version") >&2; then
    ok=$tmp/bin/victoria-logs
  else
    echo "install-victorialogs: go install failed; trying a wrapper module" >&2
  fi
fi
if [ -z "$ok" ]; then
  mkdir -p "$tmp/w"
  cat > "$tmp/w/tools.go" <<GO
//go:build tools

package tools

import _ "$pkg"
GO
  (cd "$tmp/w" && export GOFLAGS= && go mod init vlogswrapper && go get "$mod@$version" \
    && go mod tidy && go build -o "$tmp/bin/victoria-logs" "$pkg") >&2
  ok=$tmp/bin/victoria-logs
fi
# Rename last, so that an interrupted run never leaves a half binary at $bin.
mv "$ok" "$bin.tmp.$$"
mv "$bin.tmp.$$" "$bin"
echo "install-victorialogs: installed $bin" >&2
echo "$bin"
