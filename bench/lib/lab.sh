# bench/lib/lab.sh - the benchmark's own network-namespace lab. Sourced by bench/dora.sh, not run.
#
#   <P>-br: bridge br0 (STP off)
#     |-- p-srv  == <P>-srv:eth0   10.99.0.2/24  (+ 10.100.0.0/18 on-link: the relayed perf subnet)
#     `-- p-perf == <P>-perf:eth0  10.100.0.1/32 (+ 10.99.0.0/24 on-link, src 10.100.0.1)
#
# perfdhcp acts as a DHCPv4 relay: giaddr = the address of its -l interface (10.100.0.1), so the
# server picks the 10.100.0.0/18 scope and unicasts replies to 10.100.0.1:67.  Nothing is created in
# the host namespace.  Every process is started with bench_start (PID file) and stopped by PID;
# lab_down kills whatever is left in the namespaces (`ip netns pids`) and deletes them.

bench_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
bench_die() { bench_log "ERROR: $*"; exit 1; }

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

# lab_up PREFIX
lab_up() {
  local p=$1 node
  lab_down "$p"   # a stale lab with the same prefix (an interrupted earlier run)
  ip netns add "$p-br"
  ip -n "$p-br" link set lo up
  ip -n "$p-br" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
  ip -n "$p-br" link set br0 up
  for node in srv perf; do
    ip netns add "$p-$node"
    ip -n "$p-$node" link set lo up
    ip -n "$p-br" link add "p-$node" type veth peer name eth0 netns "$p-$node"
    ip -n "$p-br" link set "p-$node" master br0 up
    ip -n "$p-$node" link set eth0 up
    ip netns exec "$p-$node" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true
  done
  ip -n "$p-srv" addr add 10.99.0.2/24 dev eth0
  ip -n "$p-srv" route add 10.100.0.0/18 dev eth0
  ip -n "$p-perf" addr add 10.100.0.1/32 dev eth0
  ip -n "$p-perf" route add 10.99.0.0/24 dev eth0 src 10.100.0.1
}

# lab_down PREFIX : stop every process in the lab's namespaces (by PID) and delete them
lab_down() {
  local p=$1 ns pids i
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^$p-(br|srv|perf)\$"); do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    if [ -n "$pids" ]; then
      kill -TERM $pids 2>/dev/null
      for i in $(seq 1 30); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.1; done
      pids=$(ip netns pids "$ns" 2>/dev/null); [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    fi
    ip netns del "$ns" 2>/dev/null || true
  done
  return 0
}

# bench_start NS PIDFILE LOGFILE CMD... : run CMD in NS in the background, in its own session;
# PIDFILE gets the PID of CMD itself (exec'd by the wrapper shell).
bench_start() {
  local ns=$1 pidf=$2 logf=$3 i; shift 3
  rm -f "$pidf"
  setsid ip netns exec "$ns" bash -c 'echo $$ > "$0"; exec "$@"' "$pidf" "$@" >>"$logf" 2>&1 </dev/null &
  for i in $(seq 1 100); do [ -s "$pidf" ] && break; sleep 0.05; done
  [ -s "$pidf" ] || bench_die "could not start $* in $ns"
}

# bench_stop PIDFILE : TERM, wait up to 5 s, then KILL (by PID only)
bench_stop() {
  local pidf=$1 pid i
  [ -f "$pidf" ] || return 0
  pid=$(cat "$pidf")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidf"
}

# wait_udp NS PORT SECS : until something listens on UDP PORT in NS
wait_udp() {
  local ns=$1 port=$2 secs=$3 i
  for i in $(seq 1 $((secs * 10))); do
    [ -n "$(ip netns exec "$ns" ss -H -uln "sport = :$port" 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  return 1
}

# ns_cpu_ticks NS : utime+stime (clock ticks) summed over every process now in NS
ns_cpu_ticks() {
  local pid t=0 v
  for pid in $(ip netns pids "$1" 2>/dev/null); do
    v=$(awk '{print $14+$15}' "/proc/$pid/stat" 2>/dev/null) && t=$((t + ${v:-0}))
  done
  echo "$t"
}
