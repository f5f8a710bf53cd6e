#!/usr/bin/env bash
# A test cluster on one machine: N hosts as network namespaces on a private bridge, each
# with its own sshd, host key and hostname, plus a user key, a known_hosts file with every
# host's key, and a cluster.yaml listing the hosts. Needs root, iproute2, openssh-server.
#
#   scripts/testbed/cluster.sh up N [DIR]    bring up hosts pc1..pcN (default DIR /tmp/perfctl-testbed)
#   scripts/testbed/cluster.sh down [DIR]    stop every sshd and remove the namespaces and bridge
#   scripts/testbed/cluster.sh status [DIR]  list hosts and whether their sshd answers
#
# Two clusters at once need their own names: TESTBED_PREFIX=pb TESTBED_SUBNET=10.78.0
# TESTBED_BRIDGE=perfbr1 scripts/testbed/cluster.sh up 32 /tmp/pb32 (down and status read them
# back from DIR/testbed.env).
#
# Addresses: 10.77.0.1 is the bridge (this machine), host i is 10.77.0.(10+i). Traffic
# stays between this machine and namespaces this script made. sshd starts through
# nsenter + unshare --uts, not `ip netns exec`, which remounts /sys and breaks containers.
# The bridge's alias names the folder of the cluster that owns it: `up` and `down` leave
# alone a cluster of the same names that another folder owns while its sshds are alive.
set -euo pipefail

BRIDGE=${TESTBED_BRIDGE:-perfbr0}
PREFIX=${TESTBED_SUBNET:-10.77.0}
NAME=${TESTBED_PREFIX:-pc}

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

check_names() {
  [[ $NAME =~ ^[a-z][a-z_-]{0,7}$ ]] || { echo "cluster.sh: TESTBED_PREFIX must be 1-8 letters (host names are PREFIX1..PREFIXN)" >&2; exit 2; }
  [[ $PREFIX =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || { echo "cluster.sh: TESTBED_SUBNET must be the first three octets of a /24, e.g. 10.78.0" >&2; exit 2; }
  [[ $BRIDGE =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || { echo "cluster.sh: TESTBED_BRIDGE must be an interface name of at most 15 characters" >&2; exit 2; }
}

# Reads the names a cluster in DIR was made with, when it recorded them.
load_names() {
  local dir=$1
  if [ -f "$dir/testbed.env" ]; then
    BRIDGE=$(sed -n 's/^bridge=//p' "$dir/testbed.env")
    PREFIX=$(sed -n 's/^subnet=//p' "$dir/testbed.env")
    NAME=$(sed -n 's/^prefix=//p' "$dir/testbed.env")
  fi
  check_names
}

host_address() { echo "$PREFIX.$((10 + $1))"; }

namespaces() { ip netns list | awk '{print $1}' | grep -E "^$NAME[0-9]+$" || true; }

# The folder of another live cluster that uses these names (its sshds still run), if any.
foreign_owner() {
  local dir=$1 owner
  owner=$(cat "/sys/class/net/$BRIDGE/ifalias" 2>/dev/null || true)
  [ -n "$owner" ] && [ "$owner" != "$dir" ] || return 0
  for pidfile in "$owner"/*.sshd.pid; do
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$owner"; return 0; fi
  done
}

up() {
  local count=$1 dir=$2 owner
  [ "$count" -ge 1 ] && [ "$count" -le 200 ] || { echo "cluster.sh: N must be 1..200" >&2; exit 2; }
  [ "$(id -u)" = 0 ] || { echo "cluster.sh: needs root (network namespaces)" >&2; exit 1; }
  [ -x /usr/sbin/sshd ] || { echo "cluster.sh: /usr/sbin/sshd missing: apt-get install openssh-server" >&2; exit 1; }
  check_names
  owner=$(foreign_owner "$dir")
  if [ -n "$owner" ]; then
    echo "cluster.sh: bridge $BRIDGE and hosts ${NAME}1.. belong to a running test cluster in $owner;" \
      "take it down (cluster.sh down $owner) or use other names:" \
      "TESTBED_PREFIX=pb TESTBED_SUBNET=10.78.0 TESTBED_BRIDGE=perfbr1" >&2
    exit 1
  fi
  (load_names "$dir"; down "$dir" quiet)   # a cluster this folder held before, with its own names
  down "$dir" quiet                          # leftovers with these names whose folder is gone
  if ip -o -4 addr show | grep -q " $PREFIX\.[0-9]*/"; then
    echo "cluster.sh: another interface already has an address in $PREFIX.0/24; choose TESTBED_SUBNET" >&2
    exit 1
  fi
  mkdir -p "$dir" /run/sshd
  chmod 700 "$dir"
  printf 'prefix=%s\nsubnet=%s\nbridge=%s\n' "$NAME" "$PREFIX" "$BRIDGE" > "$dir/testbed.env"
  ssh-keygen -q -t ed25519 -N '' -C perfctl-testbed -f "$dir/id_ed25519"
  cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
  : > "$dir/known_hosts"
  ip link add "$BRIDGE" type bridge
  ip link set dev "$BRIDGE" alias "$dir"
  ip addr add "$PREFIX.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  {
    echo "# written by scripts/testbed/cluster.sh"
    echo "vendor: cpu"
    echo "env:"
    echo "  GLOO_SOCKET_IFNAME: eth0   # the hosts' names do not resolve; gloo must bind eth0"
    echo "ssh:"
    echo "  user: root"
    echo "  identity: $dir/id_ed25519"
    echo "  known_hosts: $dir/known_hosts"
    echo "hosts:"
  } > "$dir/cluster.yaml"
  for i in $(seq 1 "$count"); do
    local host=$NAME$i address
    address=$(host_address "$i")
    ip netns add "$host"
    ip link add "v-$host" type veth peer name eth0 netns "$host"
    ip link set "v-$host" master "$BRIDGE" up
    ip -n "$host" addr add "$address/24" dev eth0
    ip -n "$host" link set eth0 up
    ip -n "$host" link set lo up
    ip -n "$host" route add default via "$PREFIX.1"
    ssh-keygen -q -t ed25519 -N '' -C "$host" -f "$dir/$host.host_ed25519"
    cat > "$dir/$host.sshd_config" <<CONF
Port 22
ListenAddress $address
HostKey $dir/$host.host_ed25519
PidFile $dir/$host.sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CONF
    nsenter --net="/run/netns/$host" unshare --uts sh -c \
      "hostname $host; exec /usr/sbin/sshd -f '$dir/$host.sshd_config' -E '$dir/$host.sshd.log'"
    echo "$address $(cut -d' ' -f1,2 "$dir/$host.host_ed25519.pub")" >> "$dir/known_hosts"
    echo "  - {name: $host, address: $address}" >> "$dir/cluster.yaml"
  done
  for i in $(seq 1 "$count"); do wait_for_port "$(host_address "$i")" 22; done
  echo "cluster.sh: $count host(s) up in $dir (cluster.yaml, known_hosts, id_ed25519)"
}

wait_for_port() {
  local address=$1 port=$2
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/$address/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "cluster.sh: sshd on $address:$port did not start; see its log in the testbed folder" >&2
  return 1
}

down() {
  local dir=$1 mode=${2:-} owner
  for pidfile in "$dir"/*.sshd.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  owner=$(foreign_owner "$dir")
  if [ -n "$owner" ]; then
    # Same names, another folder's cluster, still running: not ours to remove.
    [ "$mode" = quiet ] || echo "cluster.sh: hosts ${NAME}1.. and $BRIDGE belong to the cluster in $owner; left alone" >&2
  else
    for ns in $(namespaces); do
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
      ip link del "v-$ns" 2>/dev/null || true
      ip netns del "$ns"
    done
    ip link del "$BRIDGE" 2>/dev/null || true
  fi
  rm -rf "$dir"
  [ "$mode" = quiet ] || [ -n "$owner" ] || echo "cluster.sh: test cluster removed"
}

status() {
  local dir=$1
  [ -f "$dir/cluster.yaml" ] || { echo "cluster.sh: no test cluster in $dir"; return 0; }
  for ns in $(namespaces | sort -V); do
    local address=$(host_address "${ns#$NAME}")
    if (exec 3<>"/dev/tcp/$address/22") 2>/dev/null; then echo "$ns $address sshd up"; else echo "$ns $address sshd DOWN"; fi
  done
}

command=${1:-}
case "$command" in
  up) [ $# -ge 2 ] || usage; up "$2" "${3:-/tmp/perfctl-testbed}" ;;
  down) load_names "${2:-/tmp/perfctl-testbed}"; down "${2:-/tmp/perfctl-testbed}" ;;
  status) load_names "${2:-/tmp/perfctl-testbed}"; status "${2:-/tmp/perfctl-testbed}" ;;
  *) usage ;;
esac
