#!/usr/bin/env bash
# BIND rollover lab: an authoritative BIND (named) for the zone
# `rollover.test`, inline-signed by its own dnssec-policy, accepting dynamic
# updates signed with a TSIG key (hmac-sha256); and a validating Unbound whose
# only trust anchor is that zone's key — inside a network namespace created
# here. Used by test/interop/bind-rollover.test.ts.
#
# Usage:  bind-rollover-lab.sh up   NS DIR   (DIR/zone.extra: extra zone lines, optional)
#         bind-rollover-lab.sh down NS DIR
#
# Contract:
# - NS must start with `drtk-` (this helper's prefix, so it never touches
#   another lab's namespace). Addresses on lo inside NS: named 127.0.0.53:53,
#   Unbound 127.0.0.1:53. Zone TTLs are 2 s and Unbound caches at most 2 s,
#   so an update is visible through the resolver within seconds.
# - Signatures are valid for 5 days (`signatures-validity 5d`): a monitor with
#   --rrsig-days >= 5 sees them as expiring.
# - DIR/update.key is the TSIG key that may update the zone.
# - Every process started is recorded in DIR/*.pid and killed by PID on
#   `down`; `down` then kills what is left in NS (by PID from `ip netns pids`)
#   and deletes NS. Both are idempotent. Fails with a message when not root,
#   a tool is missing, or the resolver does not validate the zone in time.
set -euo pipefail

die() { printf 'bind-rollover-lab: %s\n' "$*" >&2; exit 1; }
[ $# -eq 3 ] || die "usage: $0 up|down NS DIR"
CMD=$1 NS=$2 DIR=$3
[[ "$NS" =~ ^drtk-[A-Za-z0-9_.-]{1,58}$ ]] || die "namespace must be drtk-…: $NS"

in_ns() { ip netns exec "$NS" "$@"; }
ns_exists() { ip netns list | awk -v n="$NS" '$1==n {f=1} END {exit !f}'; }

down() {
  local f pid
  for f in "$DIR"/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
    rm -f "$f"
  done
  if ns_exists; then
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    sleep 0.3
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns delete "$NS"
  fi
}

up() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (ip netns needs it)"
  local t
  for t in ip named named-checkconf tsig-keygen unbound unbound-checkconf drill setsid; do
    command -v "$t" >/dev/null 2>&1 || die "missing tool: $t (run scripts/system-deps.sh)"
  done
  mkdir -p "$DIR/named" "$DIR/keys"
  chmod 755 "$DIR" "$DIR/named" "$DIR/keys"
  tsig-keygen -a hmac-sha256 drtk-update > "$DIR/update.key"
  {
    printf '$TTL 2\n'
    printf '@ 2 IN SOA ns.rollover.test. hostmaster.rollover.test. 1 60 30 600 1\n'
    printf '@ 2 IN NS ns.rollover.test.\n'
    printf 'ns 2 IN A 127.0.0.53\n'
    printf '@ 2 IN MX 10 mx.rollover.test.\n'
    printf 'mx 2 IN A 127.0.0.10\n'
    if [ -f "$DIR/zone.extra" ]; then cat "$DIR/zone.extra"; fi
  } > "$DIR/named/rollover.test.db"
  cat > "$DIR/named.conf" <<CONF
options {
  directory "$DIR/named";
  pid-file "$DIR/named.pidfile";
  listen-on port 53 { 127.0.0.53; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
};
controls { };
include "$DIR/update.key";
dnssec-policy "drtk" {
  keys { csk lifetime unlimited algorithm ecdsap256sha256; };
  dnskey-ttl 2;
  max-zone-ttl 60;
  zone-propagation-delay 1;
  publish-safety 1;
  retire-safety 1;
  signatures-validity 5d;
  signatures-validity-dnskey 5d;
  signatures-refresh 1d;
};
zone "rollover.test" {
  type primary;
  file "$DIR/named/rollover.test.db";
  key-directory "$DIR/keys";
  dnssec-policy "drtk";
  inline-signing yes;
  allow-update { key "drtk-update"; };
};
CONF
  named-checkconf "$DIR/named.conf" || die "named.conf does not check"
  ns_exists && die "namespace $NS exists already"
  ip netns add "$NS"
  in_ns ip link set lo up
  in_ns ip addr add 127.0.0.53/8 dev lo 2>/dev/null || true
  in_ns ip addr add 127.0.0.10/8 dev lo 2>/dev/null || true
  setsid ip netns exec "$NS" named -g -c "$DIR/named.conf" > "$DIR/named.log" 2>&1 < /dev/null &
  echo $! > "$DIR/named.pid"
  local key="" i
  for i in $(seq 1 100); do
    key=$(grep -l 'DNSKEY 257' "$DIR"/keys/K*.key 2>/dev/null | head -n1 || true)
    [ -n "$key" ] && break
    sleep 0.1
  done
  [ -n "$key" ] || die "named did not create the zone key: $(tail -n 20 "$DIR/named.log")"
  grep -v '^;' "$key" > "$DIR/ta.key"
  cat > "$DIR/unbound.conf" <<CONF
server:
  interface: 127.0.0.1
  port: 53
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "$DIR"
  pidfile: "$DIR/unbound.pidfile"
  use-syslog: no
  logfile: "$DIR/unbound.log"
  trust-anchor-file: "$DIR/ta.key"
  cache-max-ttl: 2
  cache-max-negative-ttl: 1
  access-control: 127.0.0.0/8 allow
  module-config: "validator iterator"
  harden-referral-path: no
  target-fetch-policy: "0 0 0 0 0"
  val-log-level: 2
  local-zone: "test." nodefault
stub-zone:
  name: "rollover.test"
  stub-addr: 127.0.0.53@53
CONF
  unbound-checkconf "$DIR/unbound.conf" >/dev/null || die "unbound.conf does not check"
  setsid ip netns exec "$NS" unbound -d -c "$DIR/unbound.conf" > "$DIR/unbound.out" 2>&1 < /dev/null &
  echo $! > "$DIR/unbound.pid"
  for i in $(seq 1 100); do
    if in_ns drill -D @127.0.0.1 rollover.test MX 2>/dev/null | grep -q 'flags:.* ad'; then
      echo "bind-rollover-lab: up ($NS): rollover.test validates"
      return 0
    fi
    sleep 0.2
  done
  die "the resolver does not validate rollover.test: $(in_ns drill -D @127.0.0.1 rollover.test MX 2>&1 | head -n 20) $(tail -n 20 "$DIR/named.log")"
}

case "$CMD" in
  up) ( up ) || { down; exit 1; } ;;
  down) down ;;
  *) die "usage: $0 up|down NS DIR" ;;
esac
