#!/usr/bin/env bash
# Run the suite on the other Debian release: a fresh minimal root of it (mmdebstrap --variant=apt,
# from the mirror this machine's own apt sources name), this checkout copied in, and there, as the
# real root of a mount namespace of its own, build/setup-debian.sh then the npm scripts asked for.
#
#   build/debian-root.sh [--release 12|13] [--keep DIR] [--no-setup] SCRIPT...
#   build/debian-root.sh [--release 12|13] [--keep DIR] [--no-setup] -- COMMAND [ARG...]
#
#   SCRIPT...     npm scripts, run one after the other (all of them, even after a failure);
#                 the exit code is non-zero when any failed
#   -- COMMAND    a program and its arguments instead, run from the checkout (e.g. -- npx ava FILE)
#   --release N   the release of the root: 12 (bookworm) or 13 (trixie); default: the one this
#                 machine does not run (13 on a Debian 12 machine, 12 on a Debian 13 one)
#   --keep DIR    make the root in DIR and keep it, or reuse the one already there (for development:
#                 skips mmdebstrap; the checkout is copied in anew each time). Without it the root is
#                 made in a directory of its own under /var/tmp and removed at the end.
#   --no-setup    do not run build/setup-debian.sh inside (a kept root where it has run already)
#
# Why not a chroot: the cluster harnesses enter the namespaces they make with nsenter, which sets
# the root to that namespace's real root; in a chroot that is the machine's root. So the root is
# bind-mounted onto itself in a private mount namespace (unshare), with proc, sys, dev (a /dev/shm of
# its own: libqb's IPC files), run and, in a Debian 13 root as on Debian 13, a tmpfs on /tmp; then
# pivot_root into it and the old root unmounted. Nothing of this propagates back to the machine:
# when the command ends, so does the namespace with every mount in it. The PID and network
# namespaces stay the machine's, so the cluster harnesses inside still see a corosync running outside.
set -euo pipefail
checkout="$(cd "$(dirname "$0")/.." && pwd)"

usage() { sed -n '5,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

release='' keep='' setup=1 command=()
scripts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --release) [ $# -ge 2 ] || usage; release="$2"; shift 2 ;;
    --keep) [ $# -ge 2 ] || usage; keep="$2"; shift 2 ;;
    --no-setup) setup=0; shift ;;
    --) shift; command=("$@"); break ;;
    -h|--help) usage ;;
    -*) echo "debian-root.sh: unknown option $1" >&2; usage ;;
    *) scripts+=("$1"); shift ;;
  esac
done
if [ ${#scripts[@]} -eq 0 ] && [ ${#command[@]} -eq 0 ]; then usage; fi
if [ ${#scripts[@]} -gt 0 ] && [ ${#command[@]} -gt 0 ]; then
  echo "debian-root.sh: npm scripts or -- COMMAND, not both" >&2; exit 2
fi
if [ "$(id -u)" != 0 ]; then echo "debian-root.sh: run it as root (mmdebstrap, mounts, namespaces)" >&2; exit 1; fi

host_release="$(. /etc/os-release && echo "${VERSION_ID:-}")"
if [ -z "$release" ]; then
  case "$host_release" in
    12) release=13 ;;
    13) release=12 ;;
    *) echo "debian-root.sh: this machine is not Debian 12 or 13 (VERSION_ID=$host_release): give --release" >&2; exit 1 ;;
  esac
fi
case "$release" in
  12) suite=bookworm ;;
  13) suite=trixie ;;
  *) echo "debian-root.sh: --release is 12 or 13" >&2; exit 2 ;;
esac
host_suite="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"

# The mirrors: the ones this machine's apt sources name for its own release and its security updates
# (deb822 .sources files first, then sources.list). Never a host name written here.
mirrors() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    # One paragraph a record: "URI SUITE..." for every deb record.
    awk 'BEGIN { RS = ""; FS = "\n" }
      { types = ""; uris = ""; suites = "";
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^[ \t]*#/) continue
          if ($i ~ /^Types:/) types = substr($i, 7)
          if ($i ~ /^URIs:/) uris = substr($i, 6)
          if ($i ~ /^Suites:/) suites = substr($i, 8)
          if ($i ~ /^Enabled:[ \t]*no/) types = ""
        }
        if (types ~ /(^|[ \t])deb([ \t]|$)/) { n = split(uris, u, /[ \t]+/); for (j = 1; j <= n; j++) if (u[j] != "") print u[j], suites }
      }' "$file"
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    # deb [options] URI SUITE COMPONENTS...
    sed -n 's/^[ \t]*deb[ \t]\+\(\[[^]]*\][ \t]\+\)\{0,1\}\([^ \t]\+\)[ \t]\+\([^ \t]\+\).*/\2 \3/p' "$file"
  done
}
main_mirror='' security_mirror=''
while read -r uri suites; do
  for s in $suites; do
    if [ "$s" = "$host_suite" ] && [ -z "$main_mirror" ]; then main_mirror="$uri"; fi
    if [ "$s" = "$host_suite-security" ] && [ -z "$security_mirror" ]; then security_mirror="$uri"; fi
  done
done < <(mirrors)
if [ -z "$main_mirror" ]; then
  echo "debian-root.sh: no apt source of this machine names its release ($host_suite): cannot tell Debian's mirror" >&2
  exit 1
fi
sources=("deb $main_mirror $suite main" "deb $main_mirror $suite-updates main")
if [ -n "$security_mirror" ]; then sources+=("deb $security_mirror $suite-security main"); fi

if [ -n "$keep" ]; then
  mkdir -p "$keep"
  work="$(cd "$keep" && pwd)"
else
  work="$(mktemp -d /var/tmp/ocf-openstack-debian-root.XXXXXX)"
fi
root="$work/root"
# One run at a time in a root: a second would copy the checkout anew under the first one's feet.
exec 9>"$work/.lock"
if ! flock -n 9; then echo "debian-root.sh: $work is in use by another run" >&2; exit 1; fi
# Every process the run starts, daemons and the cluster harnesses' namespace holders included
# (reparented away from us, in mount namespaces of their own), stays in this cgroup: what is left in
# it at the end is ended, and the cgroup removed.
cgroup_root="$(findmnt -n -t cgroup2 -o TARGET | head -n 1)"
cgroup=''
end_processes() {
  [ -n "$cgroup" ] && [ -d "$cgroup" ] || return 0
  local pid tries=0
  # (read, not test -s: a cgroup's files say size 0 whatever they hold)
  while [ -n "$(cat "$cgroup/cgroup.procs" 2>/dev/null)" ] && [ $tries -lt 50 ]; do
    for pid in $(cat "$cgroup/cgroup.procs"); do
      echo "debian-root.sh: left running, ended: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" >&2
      kill -9 "$pid" 2>/dev/null
    done
    sleep 0.2
    tries=$((tries + 1))
  done
  rmdir "$cgroup" 2>/dev/null || echo "debian-root.sh: could not remove $cgroup" >&2
}
cleanup() {
  local status=$?
  end_processes
  if [ -z "$keep" ]; then rm -rf --one-file-system "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v mmdebstrap >/dev/null; then
  echo "debian-root.sh: installing mmdebstrap" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi

marker="$root/.ocf-openstack-debian-root"
started=$SECONDS
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$suite" ]; then
  echo "debian-root.sh: reusing the Debian $release root in $root"
else
  rm -rf --one-file-system "$root"
  echo "debian-root.sh: making a Debian $release ($suite) root in $root"
  # ca-certificates: npm inside fetches over TLS, trusting what this machine trusts (copied below);
  # mount: umount, for the old root after pivot_root (not Essential).
  mmdebstrap --quiet --variant=apt --include=ca-certificates,mount "$suite" "$root" "${sources[@]}"
  echo "$suite" > "$marker"
fi
# The certificates this machine trusts beyond Debian's (a proxy's, a company's).
if [ -d /usr/local/share/ca-certificates ]; then
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
fi
chroot "$root" update-ca-certificates >/dev/null
# dpkg without an fsync per file: the root is thrown away after the run, a crash loses nothing worth
# keeping (mmdebstrap does the same while it builds a root). The hundreds of packages setup-debian.sh
# installs unpack minutes faster.
echo force-unsafe-io > "$root/etc/dpkg/dpkg.cfg.d/ocf-openstack-unsafe-io"

# The checkout as it is (tracked and new files, not what .gitignore names: node_modules, dist).
# A kept root keeps what npm ci installed there (setup-debian.sh's last step), for --no-setup runs.
kept_modules="$root/src/.node_modules.kept"
rm -rf --one-file-system "$kept_modules"
if [ -n "$keep" ] && [ -d "$root/src/ocf-openstack/node_modules" ]; then
  mv "$root/src/ocf-openstack/node_modules" "$kept_modules"
fi
rm -rf --one-file-system "$root/src/ocf-openstack"
mkdir -p "$root/src/ocf-openstack"
if [ -d "$checkout/.git" ] || [ -f "$checkout/.git" ]; then
  git -C "$checkout" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      if [ -e "$checkout/$f" ] || [ -L "$checkout/$f" ]; then printf '%s\0' "$f"; fi
    done |
    tar -C "$checkout" --null -T - -cf - | tar -C "$root/src/ocf-openstack" -xf -
else
  tar -C "$checkout" --exclude=./node_modules --exclude=./dist -cf - . | tar -C "$root/src/ocf-openstack" -xf -
fi
if [ -d "$kept_modules" ]; then mv "$kept_modules" "$root/src/ocf-openstack/node_modules"; fi
echo "debian-root.sh: root ready in $((SECONDS - started)) s"

# What runs inside, as the root's own bash: setup, then the scripts or the command. Arguments are
# passed as arguments, never pasted into the script's text.
inner='
set -u
cd /src/ocf-openstack
if [ "$1" = 1 ]; then
  build/setup-debian.sh || { echo "debian-root.sh: build/setup-debian.sh failed" >&2; exit 1; }
fi
shift
# What a boot makes under /run from the tmpfiles.d of the packages (/run/resource-agents, which
# the automatic validate-all of pcs 0.12 needs for ocf:heartbeat agents).
if command -v systemd-tmpfiles >/dev/null; then systemd-tmpfiles --create --prefix=/run >/dev/null 2>&1 || true; fi
status=0
if [ "$1" = scripts ]; then
  shift
  for script in "$@"; do
    started=$SECONDS
    npm run "$script" || status=1
    echo "debian-root.sh: npm run $script: $((SECONDS - started)) s"
  done
else
  shift
  "$@" || status=$?
fi
# Whatever is still running in this mount namespace was started here: end it.
self="$(readlink /proc/self/ns/mnt)"
for pid in $(ls /proc | grep -E "^[0-9]+$"); do
  [ "$pid" = $$ ] && continue
  [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$self" ] || continue
  [ "$(cut -d" " -f4 "/proc/$pid/stat" 2>/dev/null)" = $$ ] && continue  # ls, readlink of this loop
  echo "debian-root.sh: left running, ended: $(tr "\0" " " < "/proc/$pid/cmdline" 2>/dev/null)" >&2
  kill -9 "$pid" 2>/dev/null
done
exit $status
'

# Set up the namespace: runs in it as root, $1 the root, then the inner arguments.
enter='
set -eu
root="$1"; release="$2"; shift 2
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
mount -t tmpfs -o mode=755,nosuid,nodev run "$root/run"
mkdir -p "$root/run/lock" "$root/run/netns"
chmod 1777 "$root/run/lock"
if [ "$release" -ge 13 ]; then
  mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$root/tmp"
fi
cd "$root"
mkdir -p .oldroot
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot
cd /
exec /bin/bash -c "$0" inner "$@"
'

env_args=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
  TERM="${TERM:-dumb}" NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
for name in CI http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  if [ -n "${!name:-}" ]; then env_args+=("$name=${!name}"); fi
done
if [ ${#command[@]} -gt 0 ]; then what=(command "${command[@]}"); else what=(scripts "${scripts[@]}"); fi

if [ -n "$cgroup_root" ]; then
  cgroup="$cgroup_root/ocf-openstack-debian-root.$$"
  mkdir "$cgroup"
else
  echo "debian-root.sh: no cgroup2 file system: what the run leaves running cannot be found at the end" >&2
fi
set +e
# (a subshell: it joins the cgroup, then becomes the namespace's first process)
(
  if [ -n "$cgroup" ]; then echo "$BASHPID" > "$cgroup/cgroup.procs"; fi
  exec env -i "${env_args[@]}" unshare --mount --propagation private -- \
    /bin/bash -c "$enter" "$inner" "$root" "$release" "$setup" "${what[@]}"
) 9>&-
status=$?
set -e
end_processes
echo "debian-root.sh: Debian $release: exit $status after $((SECONDS - started)) s"
exit "$status"
