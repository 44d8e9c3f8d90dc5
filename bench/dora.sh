#!/usr/bin/env bash
# bench/dora.sh - DORA throughput and latency of DHCPv4 servers, measured with perfdhcp in
# network namespaces the script creates (and deletes) itself.  Needs root; see docs/benchmarks.md.
#
# Usage:
#   bench/dora.sh [--servers "ours-memory ours-redis isc kea"] [--rates "500 1000 ..."]
#                 [--duration 10] [--repeat 1] [--clients 10000] [--max-loss 1]
#                 [--stop-after 1] [--settle 1] [--out DIR] [--keep]
#
#   --servers    which servers, in order: ours-memory, ours-redis (redis-server in the server
#                namespace, unix socket, appendonly yes, appendfsync everysec), isc (dhcpd 4.4,
#                single, defaults), kea (kea-dhcp4, memfile, single, 2 threads)
#   --rates      ascending DORA/s rates requested from perfdhcp (-r)
#   --duration   seconds of load per run (-p); each run is also bounded by `timeout`
#   --repeat     runs per rate; a rate passes only if every run passes
#   --clients    simulated clients (-R)
#   --max-loss   pass threshold: loss % of DORA exchanges (default 1); a run also needs an
#                achieved rate >= 95 % of the requested one
#   --stop-after stop stepping a server after this many consecutive failing rates (default 1)
#   --out        results directory (default bench/results/dora-<timestamp>)
#   --keep       keep the scratch directory (configs, server logs, raw perfdhcp output)
#
# Each run: a fresh server (empty lease DB) in namespace <P>-srv, then in <P>-perf
#   perfdhcp -4 -l eth0 -r RATE -R CLIENTS -p DURATION -x t
# (perfdhcp acts as a relay, giaddr 10.100.0.1; the servers serve the relayed 10.100.0.0/18).
# Output: a markdown table on stdout and in OUT/summary.md, every run in OUT/runs.csv, the
# perfdhcp report of every run (without the timestamp dump) in OUT/<server>-r<rate>-<k>.txt.
set -u
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/lib/lab.sh"
. "$HERE/lib/servers.sh"

SERVERS="ours-memory ours-redis isc kea"; RATES="500 1000 1500 2000 3000 4000 5000 6000"
DUR=10; REPEAT=1; CLIENTS=10000; MAXLOSS=1; STOPAFTER=1; SETTLE=1; OUT=""; KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --servers) SERVERS=$2; shift;; --rates) RATES=$2; shift;; --duration) DUR=$2; shift;;
    --repeat) REPEAT=$2; shift;; --clients) CLIENTS=$2; shift;; --max-loss) MAXLOSS=$2; shift;;
    --stop-after) STOPAFTER=$2; shift;; --settle) SETTLE=$2; shift;; --out) OUT=$2; shift;;
    --keep) KEEP=1;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d'; exit 0;;
    *) bench_die "unknown option $1 (see --help)";;
  esac; shift
done
[ "$(id -u)" = 0 ] || bench_die "needs root (network namespaces)"
[ "$REPEAT" -ge 1 ] && [ "$REPEAT" -le 10 ] && [ "$DUR" -ge 1 ] && [ "$DUR" -le 120 ] \
  || bench_die "bounded runs only: 1 <= repeat <= 10, 1 <= duration <= 120"
need() { command -v "$1" >/dev/null || bench_die "$1 not found ($2)"; }
need ip iproute2; need perfdhcp kea-admin; need ss iproute2; need curl curl; need setsid util-linux
for s in $SERVERS; do
  case "$s" in
    ours-*) [ -x "$ROOT/bin/dhcp-failover" ] || bench_die "bin/dhcp-failover missing";;&
    ours-redis) need redis-server redis-server; need redis-cli redis-tools;;
    isc) need dhcpd isc-dhcp-server;;
    kea) need kea-dhcp4 kea-dhcp4-server;;
    ours-memory) ;;
    *) bench_die "unknown server $s";;
  esac
done

NODE="$ROOT/node_modules/.bin/node"; [ -x "$NODE" ] || NODE=node
P="b$(( $$ % 1000 ))"
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-$HERE/results/dora-$STAMP}
RUN=$(mktemp -d "/tmp/bench-dora-$P.XXXXXX")
mkdir -p "$OUT"
CLK_TCK=$(getconf CLK_TCK)

cleanup() {
  server_stop 2>/dev/null
  lab_down "$P"
  if [ "$KEEP" = 1 ]; then bench_log "scratch kept in $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lab_up "$P"
bench_log "lab $P-{br,srv,perf} up; results in $OUT"

CSV=$OUT/runs.csv
echo "server,rate_req,run,rate,loss_pct,do_p50,do_p95,ra_p50,ra_p95,srv_cpu_pct,pass" > "$CSV"
ROWS=()

fmt() { [ -n "$1" ] && printf '%.2f' "$1" || printf 'n/a'; }

for server in $SERVERS; do
  best=""; best_line=""; first_fail=""; streak=0
  for rate in $RATES; do
    allpass=1; cells=()
    for k in $(seq 1 "$REPEAT"); do
      if ! server_start "$server"; then
        bench_log "$server did not start (log: $RUN/$server.log, kept with --keep)"; allpass=0; cells+=("start failed"); break
      fi
      sleep "$SETTLE"
      c0=$(ns_cpu_ticks "$P-srv"); t0=$(date +%s.%N)
      raw=$RUN/$server-r$rate-$k.out
      timeout $((DUR + 20)) ip netns exec "$P-perf" perfdhcp -4 -l eth0 -r "$rate" -R "$CLIENTS" -p "$DUR" -x t > "$raw" 2>&1
      rc=$?
      c1=$(ns_cpu_ticks "$P-srv"); t1=$(date +%s.%N)
      server_stop "$server"
      declare -A M=()
      while IFS='=' read -r key val; do [ -n "$key" ] && M[$key]=$val; done < <("$NODE" "$HERE/parse-perfdhcp.ts" "$raw")
      cpu=$(awk -v d=$((c1 - c0)) -v hz="$CLK_TCK" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", 100*d/hz/(b-a)}')
      pass=$(awk -v l="${M[loss_pct]:-100}" -v r="${M[rate]:-0}" -v q="$rate" -v m="$MAXLOSS" 'BEGIN{print (l < m && r >= 0.95*q) ? 1 : 0}')
      [ "$pass" = 1 ] || allpass=0
      {
        echo "# bench/dora.sh run: server=$server rate=$rate run=$k/$REPEAT date=$(date -Is) exit=$rc"
        echo "# command: ip netns exec $P-perf perfdhcp -4 -l eth0 -r $rate -R $CLIENTS -p $DUR -x t"
        echo "# server CPU (all processes in $P-srv): ${cpu}% of one core"
        grep -v '^sent / received:' "$raw" | grep -v '^$' | tail -60
        echo "# ---- computed (bench/parse-perfdhcp.ts) ----"
        for key in $(printf '%s\n' "${!M[@]}" | sort); do echo "$key=${M[$key]}"; done
        echo "pass=$pass"
      } > "$OUT/$server-r$rate-$k.txt"
      echo "$server,$rate,$k,${M[rate]:-},${M[loss_pct]:-},${M[do_p50]:-},${M[do_p95]:-},${M[ra_p50]:-},${M[ra_p95]:-},$cpu,$pass" >> "$CSV"
      cells+=("${M[rate]:-?}/s, loss $(fmt "${M[loss_pct]:-}") %, DO $(fmt "${M[do_p50]:-}")/$(fmt "${M[do_p95]:-}") ms, RA $(fmt "${M[ra_p50]:-}")/$(fmt "${M[ra_p95]:-}") ms, CPU ${cpu} %")
      bench_log "$(printf '%-12s r=%-5s run %d: achieved %s/s loss %s%% DO p50/p95 %s/%s ms RA p50/p95 %s/%s ms server CPU %s%% %s' \
        "$server" "$rate" "$k" "${M[rate]:-?}" "$(fmt "${M[loss_pct]:-}")" "$(fmt "${M[do_p50]:-}")" "$(fmt "${M[do_p95]:-}")" \
        "$(fmt "${M[ra_p50]:-}")" "$(fmt "${M[ra_p95]:-}")" "$cpu" "$([ "$pass" = 1 ] && echo PASS || echo FAIL)")"
      unset M
      [ "$KEEP" = 1 ] || rm -f "$raw"
    done
    joined=$(printf '%s; ' "${cells[@]}"); joined=${joined%; }
    if [ "$allpass" = 1 ]; then best=$rate; best_line=$joined; streak=0
    else
      [ -z "$first_fail" ] && first_fail="$rate ($joined)"
      streak=$((streak + 1)); [ "$streak" -ge "$STOPAFTER" ] && break
    fi
  done
  ROWS+=("| $(server_label "$server") | ${best:-none} | ${best_line:-–} | ${first_fail:-none up to $(echo "$RATES" | awk '{print $NF}')} |")
done

{
  echo "## DORA benchmark ($(date -Is), $(nproc) CPUs, $(uname -r))"
  echo
  echo "perfdhcp -4 -l eth0 -r RATE -R $CLIENTS -p $DUR -x t (relay, giaddr 10.100.0.1), fresh server per run, $REPEAT run(s) per rate;"
  echo "rates tried: $RATES. Pass = loss < $MAXLOSS % and achieved >= 95 % of requested, in every run."
  echo "Latency p50/p95 from perfdhcp's per-exchange timestamps (DO = DISCOVER→OFFER, RA = REQUEST→ACK)."
  echo "CPU = all processes in the server namespace (incl. redis-server), % of one core, over the run."
  echo
  echo "| server | max rate passing (DORA/s requested) | at that rate: achieved, loss, DO p50/p95, RA p50/p95, server CPU | first failing rate |"
  echo "|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} | tee "$OUT/summary.md"
