#!/usr/bin/env bash
# Builds SeaweedFS's weed (the real S3 server with Object Lock used by
# sinks/s3's TestS3ObjectLockSeaweedFS; see shared/peers/README.md, "S3")
# into DIR and prints the binary's path, for LOGROUTER_WEED:
#
#   export LOGROUTER_WEED=$(bash sinks/s3/testdata/install-seaweedfs.sh "$HOME/.cache/logrouter/bin")
#
# The build takes about 14 minutes on 2 cores, so it is cached: when DIR
# already holds this version it only prints the path. Progress goes to
# stderr, the path alone to stdout.
# usage: install-seaweedfs.sh DIR
set -euo pipefail
version=v0.0.0-20261109003541-7506e5f91cd6   # SeaweedFS 4.53
mod=github.com/seaweedfs/seaweedfs
pkg=$mod/weed
dir=${1:?usage: install-seaweedfs.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin=$dir/weed-${version##*-}
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/w"
cat > "$tmp/w/tools.go" <<GO
//go:build tools

package tools

import _ "$pkg"
GO
echo "install-seaweedfs: building $pkg@$version (about 14 min)" >&2
# The replace is SeaweedFS's own (its go.mod), which a wrapper must repeat.
(cd "$tmp/w" && export GOFLAGS= && go mod init weedwrapper \
  && go mod edit -replace github.com/tyler-smith/go-bip39=github.com/cosmos/go-bip39@v1.0.0 \
  && go get "$mod@$version" && go mod tidy && go build -o "$tmp/weed" "$pkg") >&2
mv "$tmp/weed" "$bin.tmp.$$"
mv "$bin.tmp.$$" "$bin"
echo "install-seaweedfs: installed $bin" >&2
echo "$bin"
