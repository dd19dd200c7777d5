#!/usr/bin/env bash
# Builds Benthos (the benchmark peer of `lrbench -scenario benthos-compare`)
# in a wrapper module outside this repository, so Benthos never becomes a
# dependency of logrouter's go.mod (see shared/peers/README.md, section 5).
#
#   bench/benthos/build.sh            # prints the binary's path on stdout
#   BENTHOS_VERSION=v4.60.0 LRBENCH_CACHE=/tmp/lrbench-cache bench/benthos/build.sh
#
# Idempotent: a binary already built for the version is reused. Progress goes
# to stderr; the last line of stdout is the binary's path. Exit status 1 when
# it cannot be built (no network, proxy refusal): lrbench then skips Benthos.
set -euo pipefail

version="${BENTHOS_VERSION:-v4.60.0}"
cache="${LRBENCH_CACHE:-/tmp/lrbench-cache}"
wrap="$cache/benthos-$version"
bin="$wrap/bin/benthos"

if [[ -x "$bin" ]] && "$bin" --version >/dev/null 2>&1; then
	echo "$bin"
	exit 0
fi

mkdir -p "$wrap"
cd "$wrap"
# A module of its own: no go.work, no parent go.mod, default flags.
export GOWORK=off GOFLAGS=-mod=mod
if [[ ! -f go.mod ]]; then
	go mod init lrbench-benthos >&2
fi
cat >tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/redpanda-data/benthos/v4/cmd/benthos"
GO
echo "lrbench: fetching github.com/redpanda-data/benthos/v4@$version ..." >&2
go get "github.com/redpanda-data/benthos/v4@$version" >&2
go mod tidy >&2
echo "lrbench: building benthos $version (about a minute on 2 cores) ..." >&2
go build -trimpath -o "$bin.tmp" github.com/redpanda-data/benthos/v4/cmd/benthos >&2
mv "$bin.tmp" "$bin"
"$bin" --version >&2
echo "$bin"
