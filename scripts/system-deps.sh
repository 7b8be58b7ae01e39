#!/usr/bin/env bash
# Installs the Debian packages the test suite's interop tier needs (real
# validating resolver, authoritative server, zone signer, MTA). Idempotent:
# does nothing when they are present. Needs root for apt-get.
set -euo pipefail
need=()
command -v unbound >/dev/null 2>&1 || need+=(unbound)
command -v nsd >/dev/null 2>&1 || need+=(nsd)
command -v ldns-signzone >/dev/null 2>&1 || need+=(ldnsutils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
[ -x /usr/sbin/postfix ] || need+=(postfix)
[ -x /usr/sbin/pflogsumm ] || need+=(pflogsumm)   # test/log: pflogsumm reads the Postfix-format log
[ -x /usr/sbin/logrotate ] || need+=(logrotate)   # test/cli/log-rotation: the shipped config/logrotate/dane-relay
{ [ -x /usr/sbin/named ] && command -v nsupdate >/dev/null 2>&1; } || need+=(bind9 bind9-utils bind9-dnsutils)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${need[*]} and not root; interop tests will report them missing" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The packages' own services must not run on this host: the tests start their own instances.
for svc in unbound nsd postfix named logrotate.timer; do
  systemctl disable --now "$svc" >/dev/null 2>&1 || service "$svc" stop >/dev/null 2>&1 || true
done
