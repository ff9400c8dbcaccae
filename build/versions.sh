#!/usr/bin/env bash
# The versions the suite runs against on this machine (or inside a root: build/debian-root.sh -- build/versions.sh):
# one line, the Debian release then each component's package version.
set -uo pipefail
release="$(. /etc/os-release && echo "${PRETTY_NAME:-unknown}")"
line="$release:"
for package in pacemaker corosync pcs crmsh resource-agents haproxy keystone ceilometer-polling redis-server rabbitmq-server memcached uwsgi-core; do
  version="$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null)" || version='not installed'
  line="$line $package ${version:-not installed},"
done
echo "${line%,}"
