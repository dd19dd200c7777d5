#!/usr/bin/env bash
# Runs Debian's syslog-ng (extracted from its .deb, since it conflicts with the
# rsyslog package) in the foreground. Installs into $SNG_ROOT on first use.
# usage: syslog-ng.sh CONF RUNDIR [syslog-ng args]
#        syslog-ng.sh --install        (install only)
set -euo pipefail
root=${SNG_ROOT:-/opt/syslog-ng}
if [ ! -x "$root/usr/sbin/syslog-ng" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libcap2 libglib2.0-0 libivykis0 libjson-c5 libnet1 libpcre3 libssl3 libwrap0 >/dev/null
  tmp=$(mktemp -d); chown _apt "$tmp" 2>/dev/null || true; (cd "$tmp" && apt-get download -qq syslog-ng-core >/dev/null)
  dpkg -x "$tmp"/syslog-ng-core_*.deb "$root"; rm -rf "$tmp"
fi
if [ "${1:-}" = --install ]; then exit 0; fi
export LD_LIBRARY_PATH=$root/usr/lib/syslog-ng SYSLOGNG_PREFIX=$root/usr
conf=$(realpath "${1:?conf}"); run=$(realpath -m "${2:?rundir}"); shift 2
mkdir -p "$run"
exec "$root/usr/sbin/syslog-ng" -F --no-caps --module-path="$root/usr/lib/syslog-ng/3.38" \
  -f "$conf" -R "$run/persist" -p "$run/pid" -c "$run/ctl" "$@"
