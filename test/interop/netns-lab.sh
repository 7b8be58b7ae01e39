#!/usr/bin/env bash
# Tier-2 DNS lab: a lab root zone, a TLD and child zones signed with
# ldns-signzone, served by NSD and resolved by a validating Unbound whose only
# trust anchor is the lab root key — all inside a network namespace created
# here, so nothing touches the host's resolver or network.
#
# Usage:  netns-lab.sh up   NS DIR     build zones in DIR, create NS, start NSD + Unbound, self-check
#         netns-lab.sh down NS DIR     stop everything started for NS (by recorded PID), delete NS
#         netns-lab.sh check NS DIR    run the drill self-check again
#
# Contract:
# - NS is a namespace name chosen by the caller (unique per run, e.g. drlab-$$);
#   DIR a working directory (created if missing; `down` leaves it, the caller removes it).
# - Addresses (all on lo inside NS): NSD 127.0.0.53:53, Unbound 127.0.0.1:53.
# - Zones: `.` (signed, trust anchor DIR/root.ds), `test.` (signed),
#   good.test (signed), badtlsa.test (signed, then its TLSA rdata altered → the
#   TLSA RRset alone is bogus), unsigned.test (no DS → insecure), bogus.test (DS
#   of a key that did not sign the zone → bogus), expired.test (RRSIGs expired
#   → bogus). A validating resolver answers SERVFAIL for bogus data.
# - Extra records: DIR/extra/<zone>.rr (e.g. good.test.rr), if present when
#   `up` runs, is appended to that zone before signing (TLSA digests of test
#   certificates, more MX names, …). Owner names there should be absolute.
# - Every process started is recorded in DIR/pids/*.pid and killed by PID on
#   `down`; `down` then kills any process still inside NS (by PID from
#   `ip netns pids`) and deletes NS. Both subcommands are idempotent.
# - Fails (exit != 0, message on stderr) when not root, a tool is missing, or
#   the self-check does not see AD on good.test, no AD on unsigned.test and
#   SERVFAIL on bogus.test.
set -euo pipefail

NSD_ADDR=127.0.0.53
RESOLVER_ADDR=127.0.0.1

die() { printf 'netns-lab: %b\n' "$*" >&2; exit 1; }

usage() { die "usage: $0 up|down|check NS DIR"; }

[ $# -eq 3 ] || usage
CMD=$1 NS=$2 DIR=$3
[[ "$NS" =~ ^[A-Za-z0-9_.-]{1,64}$ ]] || die "bad namespace name: $NS"

require_tools() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (ip netns needs it)"
  local t
  for t in ip ss setsid nsd nsd-checkconf unbound unbound-checkconf ldns-keygen ldns-signzone ldns-key2ds drill; do
    command -v "$t" >/dev/null 2>&1 || die "missing tool: $t (run scripts/system-deps.sh)"
  done
}

ns_exists() { ip netns list | awk -v n="$NS" '$1==n {f=1} END {exit !f}'; }

in_ns() { ip netns exec "$NS" "$@"; }

# ---------------------------------------------------------------- zones
keygen() { # keygen ZONE -> prints key base name (in DIR/keys)
  (cd "$DIR/keys" && ldns-keygen -a ECDSAP256SHA256 -k "$1")
}

ds_of() { # ds_of KEYBASE -> DS RR (SHA-256)
  (cd "$DIR/keys" && ldns-key2ds -n -2 "$1.key")
}

soa() { # soa ORIGIN
  printf '$TTL 3600\n%s 3600 IN SOA ns.nic.test. hostmaster.nic.test. 1 3600 600 86400 300\n' "$1"
  printf '%s 3600 IN NS ns.nic.test.\n' "$1"
}

append_extra() { # append_extra ZONE FILE
  local extra="$DIR/extra/$1.rr"
  if [ -f "$extra" ]; then cat "$extra" >>"$2"; fi
}

# Default TLSA data for mx.<zone>: a digest that matches nothing real.
DEFAULT_TLSA="3 1 1 $(printf '%064d' 0 | tr 0 a)"

mail_zone() { # mail_zone ZONE LASTOCTET -> zone text with MX, A, TLSA
  local z=$1 o=$2
  soa "$z."
  printf '%s. 3600 IN MX 10 mx.%s.\n' "$z" "$z"
  printf 'mx.%s. 3600 IN A 127.0.0.%s\n' "$z" "$o"
  printf '_25._tcp.mx.%s. 3600 IN TLSA %s\n' "$z" "$DEFAULT_TLSA"
}

sign() { # sign ORIGIN INFILE OUTFILE KEYBASE [extra ldns-signzone args]
  local origin=$1 in=$2 out=$3 key=$4; shift 4
  ldns-signzone "$@" -o "$origin" -f "$out" "$in" "$DIR/keys/$key"
}

# Alter every TLSA rdata after signing (last hex digit flipped): the
# signature no longer verifies, so that RRset alone is bogus.
tamper_tlsa() { # tamper_tlsa FILE
  awk 'BEGIN{OFS="\t"} $4=="TLSA" { d=$NF; c=substr(d,length(d),1); $NF=substr(d,1,length(d)-1) (c=="0"?"1":"0") } {print}' \
    "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}

build_zones() {
  local z k
  rm -rf "$DIR/zones" "$DIR/keys"
  mkdir -p "$DIR/zones" "$DIR/keys" "$DIR/extra"
  local Z=$DIR/zones
  declare -A KEY
  for z in . test good.test badtlsa.test bogus.test expired.test; do
    KEY[$z]=$(keygen "$z")
  done
  # A second bogus.test key: it signs the zone, but test. publishes the DS of the first.
  local signer_of_bogus
  signer_of_bogus=$(keygen bogus.test)
  # Key files are named after the key tag: had both keys drawn the same tag (1 in 65,536), the second
  # overwrote the first and the "bogus" zone validated. Draw the vouched-for key again until they differ.
  while [ "$signer_of_bogus" = "${KEY[bogus.test]}" ]; do KEY[bogus.test]=$(keygen bogus.test); done

  # Child zones first: their DS go into test.
  mail_zone good.test 10 >"$Z/good.test.zone";   append_extra good.test "$Z/good.test.zone"
  mail_zone badtlsa.test 50 >"$Z/badtlsa.test.zone"; append_extra badtlsa.test "$Z/badtlsa.test.zone"
  mail_zone bogus.test 30 >"$Z/bogus.test.zone"; append_extra bogus.test "$Z/bogus.test.zone"
  mail_zone expired.test 40 >"$Z/expired.test.zone"; append_extra expired.test "$Z/expired.test.zone"
  mail_zone unsigned.test 20 >"$Z/unsigned.test.zone"; append_extra unsigned.test "$Z/unsigned.test.zone"
  sign good.test "$Z/good.test.zone" "$Z/good.test.signed" "${KEY[good.test]}"
  sign badtlsa.test "$Z/badtlsa.test.zone" "$Z/badtlsa.test.signed" "${KEY[badtlsa.test]}"
  tamper_tlsa "$Z/badtlsa.test.signed"
  # bogus.test: signed with a key whose DS is NOT the one published in test.
  sign bogus.test "$Z/bogus.test.zone" "$Z/bogus.test.signed" "$signer_of_bogus"
  sign expired.test "$Z/expired.test.zone" "$Z/expired.test.signed" "${KEY[expired.test]}" \
    -i 20000101000000 -e 20000201000000
  cp "$Z/unsigned.test.zone" "$Z/unsigned.test.signed"

  { soa test.
    printf 'ns.nic.test. 3600 IN A %s\n' "$NSD_ADDR"
    for z in good unsigned badtlsa bogus expired; do
      printf '%s.test. 3600 IN NS ns.nic.test.\n' "$z"
    done
    ds_of "${KEY[good.test]}"
    ds_of "${KEY[badtlsa.test]}"
    ds_of "${KEY[expired.test]}"
    # The DS bogus.test's parent vouches for: a key bogus.test never used.
    ds_of "${KEY[bogus.test]}"
  } >"$Z/test.zone"
  append_extra test "$Z/test.zone"
  sign test. "$Z/test.zone" "$Z/test.signed" "${KEY[test]}"

  { soa .
    printf 'ns.nic.test. 3600 IN A %s\n' "$NSD_ADDR"
    printf 'test. 3600 IN NS ns.nic.test.\n'
    ds_of "${KEY[test]}"
  } >"$Z/root.zone"
  sign . "$Z/root.zone" "$Z/root.signed" "${KEY[.]}"

  ds_of "${KEY[.]}" >"$DIR/root.ds"
  printf '. 3600000 IN NS ns.nic.test.\nns.nic.test. 3600000 IN A %s\n' "$NSD_ADDR" >"$DIR/root.hints"
}

# ---------------------------------------------------------------- configs
write_nsd_conf() {
  local z
  { cat <<EOF
server:
  ip-address: $NSD_ADDR
  port: 53
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$DIR/zones"
  database: ""
  zonelistfile: "$DIR/nsd/zone.list"
  xfrdfile: "$DIR/nsd/xfrd.state"
  xfrdir: "$DIR/nsd"
  pidfile: "$DIR/nsd/nsd.pid"
  logfile: "$DIR/nsd/nsd.log"
  server-count: 1
  verbosity: 1
  hide-version: yes
remote-control:
  control-enable: no
EOF
    printf 'zone:\n  name: "."\n  zonefile: "root.signed"\n'
    for z in test good.test unsigned.test badtlsa.test bogus.test expired.test; do
      printf 'zone:\n  name: "%s"\n  zonefile: "%s.signed"\n' "$z" "$z"
    done
  } >"$DIR/nsd/nsd.conf"
}

write_unbound_conf() {
  cat >"$DIR/unbound/unbound.conf" <<EOF
server:
  interface: $RESOLVER_ADDR
  port: 53
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  root-hints: "$DIR/root.hints"
  trust-anchor-file: "$DIR/root.ds"
  module-config: "validator iterator"
  val-log-level: 2
  chroot: ""
  username: ""
  directory: "$DIR/unbound"
  pidfile: "$DIR/unbound/unbound.pid"
  logfile: "$DIR/unbound/unbound.log"
  use-syslog: no
  num-threads: 1
  verbosity: 1
  trust-anchor-signaling: no
  root-key-sentinel: no
  # test. is an RFC 6761 special-use name that Unbound answers locally by default.
  local-zone: "test." nodefault
remote-control:
  control-enable: no
EOF
}

# ---------------------------------------------------------------- processes
# Alive = exists and not a zombie (PID 1 here may reap late).
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

pid_alive() { [ -f "$1" ] && alive "$(cat "$1")"; }

# True when PID runs inside NS: a recorded PID is only ever signalled if so,
# which guards against PID reuse after the lab's own process is gone.
pid_in_ns() {
  local a b
  a=$(stat -L -c %d:%i "/proc/$1/ns/net" 2>/dev/null) || return 1
  b=$(stat -L -c %d:%i "/run/netns/$NS" 2>/dev/null) || return 1
  [ "$a" = "$b" ]
}

start_bg() { # start_bg NAME CMD... : foreground daemon inside NS, PID recorded
  local name=$1; shift
  setsid ip netns exec "$NS" "$@" >>"$DIR/pids/$name.out" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name.pid"
}

wait_port() { # wait_port ADDR PIDFILE: until ADDR:53/udp is bound inside NS (bounded: 10 s)
  local i
  for i in $(seq 1 100); do
    if [ -n "$(in_ns ss -Hlun "src $1:53")" ]; then return 0; fi
    pid_alive "$2" || return 1
    sleep 0.1
  done
  return 1
}

stop_pid() { # stop_pid PID: if inside NS, TERM, wait up to 5 s, then KILL
  local pid=$1 i
  alive "$pid" && pid_in_ns "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do alive "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- self-check
check() {
  local out
  out=$(in_ns drill -D @"$RESOLVER_ADDR" good.test MX 2>&1)
  grep -q 'rcode: NOERROR' <<<"$out" && grep -Eq '^;; flags: .*\bad\b' <<<"$out" \
    || die "self-check: good.test MX lacks AD or NOERROR:\n$out"
  out=$(in_ns drill -D @"$RESOLVER_ADDR" unsigned.test MX 2>&1)
  grep -q 'rcode: NOERROR' <<<"$out" && ! grep -Eq '^;; flags: .*\bad\b' <<<"$out" \
    || die "self-check: unsigned.test MX should be NOERROR without AD:\n$out"
  out=$(in_ns drill -D @"$RESOLVER_ADDR" bogus.test MX 2>&1)
  grep -q 'rcode: SERVFAIL' <<<"$out" || die "self-check: bogus.test MX should be SERVFAIL:\n$out"
  echo "netns-lab: $NS ok (good.test AD, unsigned.test no AD, bogus.test SERVFAIL)"
}

# ---------------------------------------------------------------- up / down
up() {
  require_tools
  mkdir -p "$DIR/pids" "$DIR/nsd" "$DIR/unbound"
  DIR=$(cd "$DIR" && pwd)
  if ns_exists && pid_alive "$DIR/pids/nsd.pid" && pid_alive "$DIR/pids/unbound.pid"; then
    echo "netns-lab: $NS already up"; return 0
  fi
  down_quiet
  mkdir -p "$DIR/pids" "$DIR/nsd" "$DIR/unbound"
  ip netns add "$NS"
  in_ns ip link set lo up
  # Postfix logs through postlogd's UNIX datagram socket; Linux caps its queue at 10 per namespace,
  # and a full queue has stalled Postfix's start (test/interop/dsn-postfix.test.ts).
  in_ns sysctl -qw net.unix.max_dgram_qlen=512
  build_zones
  write_nsd_conf
  write_unbound_conf
  nsd-checkconf "$DIR/nsd/nsd.conf" || die "nsd.conf rejected"
  unbound-checkconf "$DIR/unbound/unbound.conf" >/dev/null || die "unbound.conf rejected"
  start_bg nsd nsd -d -c "$DIR/nsd/nsd.conf"
  wait_port "$NSD_ADDR" "$DIR/pids/nsd.pid" || die "NSD did not answer on $NSD_ADDR (see $DIR/nsd/nsd.log)"
  start_bg unbound unbound -d -c "$DIR/unbound/unbound.conf"
  wait_port "$RESOLVER_ADDR" "$DIR/pids/unbound.pid" || die "Unbound did not answer on $RESOLVER_ADDR (see $DIR/unbound/unbound.log)"
  check
}

down_quiet() {
  local f pid
  if [ -d "$DIR/pids" ]; then
    for f in "$DIR"/pids/*.pid; do
      [ -f "$f" ] || continue
      stop_pid "$(cat "$f")"
      rm -f "$f"
    done
  fi
  if ns_exists; then
    # Anything else still running inside NS (children of tests), by PID.
    for pid in $(ip netns pids "$NS" 2>/dev/null); do stop_pid "$pid"; done
    ip netns del "$NS"
  fi
}

case "$CMD" in
  up) up ;;
  down) [ "$(id -u)" -eq 0 ] || die "must run as root"; down_quiet; echo "netns-lab: $NS down" ;;
  check) require_tools; check ;;
  *) usage ;;
esac
