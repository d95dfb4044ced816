#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a test program in private network, mount and PID namespaces: the
# loopback interface alone (multicast on, for mDNS), and a tmpfs on /run
# where the test starts a system bus and an Avahi daemon of its own. The
# real network, bus and daemon are never touched. When the program ends,
# every process it left ends with the namespace. Exit 77 (skipped), with
# the reason, where that cannot be had. Arguments: the program and its own.
set -u
skip () { echo "SKIP: $*"; exit 77; }

if [ "${SSQ_NETNS_INSIDE:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || skip "private network namespaces need root (unshare -n)"
  for tool in unshare ip mount dbus-daemon avahi-daemon avahi-browse avahi-publish; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (apt-get install avahi-daemon avahi-utils dbus iproute2)"
  done
  unshare -n -m -p -f --mount-proc --propagation private true 2>/dev/null ||
    skip "namespaces are not allowed here (unshare -n -m -p failed)"
  SSQ_NETNS_INSIDE=1 exec unshare -n -m -p -f --mount-proc --propagation private -- bash "$0" "$@"
fi

# Inside: this shell is the namespace's init; it stays so until the end.
ip link set lo up && ip link set lo multicast on && mount -t tmpfs -o mode=0755 tmpfs /run &&
  mkdir -p /run/dbus /run/avahi-daemon || { echo "cannot set up the namespace"; exit 1; }
unset DBUS_SYSTEM_BUS_ADDRESS
"$@"
