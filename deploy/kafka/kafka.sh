#!/usr/bin/env bash
# Runs a single-node Apache Kafka (KRaft, combined broker + controller) from the jars that
# Maven fetches from Maven Central; no Kafka distribution, no Docker.
#
#   kafka.sh fetch                              copy the jars into the cache (idempotent)
#   kafka.sh start DATA_DIR PORT CONTROLLER_PORT   format (first time) and start; waits until ready
#   kafka.sh stop DATA_DIR                      stop cleanly (SIGTERM, then SIGKILL after 30 s)
#   kafka.sh status DATA_DIR                    exit 0 when the broker of DATA_DIR is running
#   kafka.sh start-cluster DATA_DIR N PORT      N combined nodes in DATA_DIR/node-<i> on PORT,
#                                               PORT+2, … (controllers on each PORT+1), one
#                                               N-voter quorum; replication min(N,3), min ISR 2
#   kafka.sh restart-node NODE_DIR PORT         start one node of a cluster again, as configured
#   kafka.sh stop-cluster DATA_DIR              stop every node
#
# Environment: KAFKA_VERSION (default: the pom's), NETRA_CACHE (default: <repo>/.cache),
# KAFKA_HEAP (default: 512m), KAFKA_PARTITIONS (default partitions of new topics, 6).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
pom_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
version="${KAFKA_VERSION:-$pom_version}"
cache="${NETRA_CACHE:-$repo/.cache}/kafka/$version"
libs="$cache/libs"

die() { echo "kafka.sh: $*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2"
}

fetch() {
  [ -f "$libs/.complete" ] && return 0
  need java "install Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)"
  need mvn "install Apache Maven (Debian: apt-get install maven)"
  echo "kafka.sh: fetching Apache Kafka $version jars from Maven Central into $libs" >&2
  rm -rf "$libs"
  mkdir -p "$libs"
  mvn -q -B -f "$here/pom.xml" -Dkafka.version="$version" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" >&2 \
    || die "mvn could not fetch Kafka $version (see the output above)"
  ls "$libs"/kafka_2.13-"$version".jar >/dev/null 2>&1 || die "kafka_2.13-$version.jar missing after fetch"
  touch "$libs/.complete"
}

# Sets jvm to the command line shared by the formatter and the broker; $1 is the data dir.
set_jvm() {
  jvm=(java "-Xmx${KAFKA_HEAP:-512m}" "-Xms${KAFKA_HEAP:-512m}" -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$here/log4j2.yaml" "-Dkafka.logs.dir=$1" -cp "$libs/*")
}

# write_config DATA PORT CONTROLLER_PORT [NODE_ID VOTERS REPLICATION MIN_ISR]
write_config() {
  local data="$1" port="$2" cport="$3" node="${4:-1}" voters="${5:-1@127.0.0.1:$3}"
  local rf="${6:-1}" isr="${7:-1}"
  cat >"$data/server.properties" <<EOF
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data/log
num.partitions=${KAFKA_PARTITIONS:-6}
auto.create.topics.enable=false
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
log.retention.ms=-1
EOF
}

pid_of() {
  local pidfile="$1/kafka.pid"
  [ -f "$pidfile" ] || return 1
  local pid
  pid="$(cat "$pidfile")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local data="${1:?data dir}" port="${2:?port}" cport="${3:?controller port}"
  prepare "$data" || return 0
  data="$(cd "$data" && pwd)"
  write_config "$data" "$port" "$cport"
  format "$data" "$(cluster_id "$data")"
  launch "$data"
  await_started "$data" "$port"
}

# Returns 1 (after saying so) when DATA already runs a broker; creates it otherwise.
prepare() {
  need java "install Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)"
  fetch
  mkdir -p "$1"
  if pid_of "$1" >/dev/null; then
    echo "kafka.sh: already running (pid $(pid_of "$1")) in $1" >&2
    return 1
  fi
}

# The cluster id kept in DIR/cluster.id (made the first time), shared by every node formatted with it.
cluster_id() {
  local jvm
  set_jvm "$1"
  [ -f "$1/cluster.id" ] || "${jvm[@]}" kafka.tools.StorageTool random-uuid >"$1/cluster.id"
  cat "$1/cluster.id"
}

format() {
  local data="$1" id="$2" jvm
  set_jvm "$data"
  if [ ! -f "$data/log/meta.properties" ]; then
    "${jvm[@]}" kafka.tools.StorageTool format --ignore-formatted -t "$id" \
      -c "$data/server.properties" >"$data/format.log" 2>&1 \
      || die "formatting KRaft storage failed: $(cat "$data/format.log")"
  fi
}

launch() {
  local data="$1" jvm
  set_jvm "$data"
  : >"$data/server.log"
  nohup "${jvm[@]}" kafka.Kafka "$data/server.properties" >"$data/stdout.log" 2>&1 </dev/null &
  echo $! >"$data/kafka.pid"
}

await_started() {
  local data="$1" port="$2" waited=0
  until port_open "$port" && grep -q "Kafka Server started" "$data/server.log"; do
    if ! pid_of "$data" >/dev/null; then
      die "the broker exited while starting; see $data/server.log and $data/stdout.log:
$(tail -20 "$data/stdout.log" "$data/server.log" 2>/dev/null)"
    fi
    waited=$((waited + 1))
    [ "$waited" -le 240 ] || { stop "$data"; die "the broker did not answer within 120 s"; }
    sleep 0.5
  done
  echo "kafka.sh: Kafka $version ready on 127.0.0.1:$port (data in $data, pid $(cat "$data/kafka.pid"))" >&2
}

# Every node is launched before any is awaited: none finishes starting without a quorum.
start_cluster() {
  local data="${1:?data dir}" n="${2:?number of nodes}" port="${3:?first port}" voters="" i
  mkdir -p "$data"
  data="$(cd "$data" && pwd)"
  local rf=$((n < 3 ? n : 3)) isr=$((n < 3 ? 1 : 2)) id
  for i in $(seq 1 "$n"); do voters+="${voters:+,}$i@127.0.0.1:$((port + 2 * (i - 1) + 1))"; done
  id="$(need java "install Java 17"; fetch; cluster_id "$data")"
  for i in $(seq 1 "$n"); do
    local node="$data/node-$i" p=$((port + 2 * (i - 1)))
    prepare "$node" || continue
    write_config "$node" "$p" "$((p + 1))" "$i" "$voters" "$rf" "$isr"
    format "$node" "$id"
    launch "$node"
  done
  for i in $(seq 1 "$n"); do await_started "$data/node-$i" "$((port + 2 * (i - 1)))"; done
}

restart_node() {
  local node="${1:?node dir}" port="${2:?port}"
  prepare "$node" || return 0
  launch "$node"
  await_started "$node" "$port"
}

stop_cluster() {
  # All at once: a node stopped after the others waits for a quorum that is gone (30 s).
  local data="${1:?data dir}" node
  for node in "$data"/node-*; do [ -d "$node" ] && stop "$node" & done
  wait
}

stop() {
  local data="${1:?data dir}" pid
  pid="$(pid_of "$data")" || { echo "kafka.sh: not running in $data" >&2; return 0; }
  kill -TERM "$pid"
  for _ in $(seq 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$data/kafka.pid"; echo "kafka.sh: stopped" >&2; return 0; }
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$data/kafka.pid"
  echo "kafka.sh: killed after 30 s" >&2
}

case "${1:-}" in
  fetch) fetch; echo "$libs" ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  status) shift; pid_of "${1:?data dir}" >/dev/null ;;
  start-cluster) shift; start_cluster "$@" ;;
  restart-node) shift; restart_node "$@" ;;
  stop-cluster) shift; stop_cluster "$@" ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
