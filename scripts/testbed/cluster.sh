#!/usr/bin/env bash
# A test cluster on one machine: N hosts as network namespaces on a private bridge, each
# with its own sshd, host key and hostname, plus a user key, a known_hosts file with every
# host's key, and a cluster.yaml listing the hosts. Needs root, iproute2, openssh-server.
#
#   scripts/testbed/cluster.sh up N [DIR]    bring up hosts pc1..pcN (default DIR /tmp/perfctl-testbed)
#   scripts/testbed/cluster.sh down [DIR]    stop every sshd and remove the namespaces and bridge
#   scripts/testbed/cluster.sh status [DIR]  list hosts and whether their sshd answers
#
# Addresses: 10.77.0.1 is the bridge (this machine), host i is 10.77.0.(10+i). Traffic
# stays between this machine and namespaces this script made. sshd starts through
# nsenter + unshare --uts, not `ip netns exec`, which remounts /sys and breaks containers.
set -euo pipefail

BRIDGE=perfbr0
PREFIX=10.77.0
NAME=pc

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

host_address() { echo "$PREFIX.$((10 + $1))"; }

up() {
  local count=$1 dir=$2
  [ "$count" -ge 1 ] && [ "$count" -le 200 ] || { echo "cluster.sh: N must be 1..200" >&2; exit 2; }
  [ "$(id -u)" = 0 ] || { echo "cluster.sh: needs root (network namespaces)" >&2; exit 1; }
  [ -x /usr/sbin/sshd ] || { echo "cluster.sh: /usr/sbin/sshd missing: apt-get install openssh-server" >&2; exit 1; }
  down "$dir" quiet
  mkdir -p "$dir" /run/sshd
  chmod 700 "$dir"
  ssh-keygen -q -t ed25519 -N '' -C perfctl-testbed -f "$dir/id_ed25519"
  cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
  : > "$dir/known_hosts"
  ip link add "$BRIDGE" type bridge
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
  local dir=$1 mode=${2:-}
  for pidfile in "$dir"/*.sshd.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^$NAME[0-9]+$" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip link del "v-$ns" 2>/dev/null || true
    ip netns del "$ns"
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -rf "$dir"
  [ "$mode" = quiet ] || echo "cluster.sh: test cluster removed"
}

status() {
  local dir=$1
  [ -f "$dir/cluster.yaml" ] || { echo "cluster.sh: no test cluster in $dir"; return 0; }
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^$NAME[0-9]+$" | sort -V); do
    local address=$(host_address "${ns#$NAME}")
    if (exec 3<>"/dev/tcp/$address/22") 2>/dev/null; then echo "$ns $address sshd up"; else echo "$ns $address sshd DOWN"; fi
  done
}

command=${1:-}
case "$command" in
  up) [ $# -ge 2 ] || usage; up "$2" "${3:-/tmp/perfctl-testbed}" ;;
  down) down "${2:-/tmp/perfctl-testbed}" ;;
  status) status "${2:-/tmp/perfctl-testbed}" ;;
  *) usage ;;
esac
