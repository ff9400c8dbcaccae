#!/usr/bin/env bash
# Everything the build and the test suite need on a fresh Debian 12 or 13 machine (a minimal one too:
# mmdebstrap --variant=apt), as root: the real daemons the tests drive, the cluster stack, the
# packaging tools, then npm ci.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # OCF tooling and the cluster stack
  resource-agents pacemaker pacemaker-cli-utils corosync crmsh libxml2-utils pcs
  # the daemons the agents manage
  memcached haproxy redis-server
  # the message bus ceilometer publishes to (the three-node suite's bus-down scenario)
  rabbitmq-server
  keystone uwsgi-core uwsgi-plugin-python3 python3-openstackclient
  ceilometer-polling ceilometer-agent-central python3-tooz python3-redis
  # Keystone's oslo.cache clients the token scenarios measure (test/e2e/three-layout.ts's CACHE_SETTINGS)
  python3-memcache python3-pymemcache
  # what the agents and tests call
  procps iproute2 util-linux mount time hyperfine ca-certificates curl python3 logrotate
  # packaging
  # (build-essential: dpkg-buildpackage's implicit build dependency, absent from a minimal install)
  build-essential dpkg-dev debhelper fakeroot lintian rpm rpmlint man-db groff-base
)

if [ "$(id -u)" != 0 ]; then
  echo "setup-debian.sh installs Debian packages: run it as root (sudo)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the packages' own services from starting: the tests start the daemons they need.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${packages[@]}"
if ! command -v npm >/dev/null; then
  apt-get install -y -qq --no-install-recommends nodejs npm
fi
npm ci --no-audit --no-fund
