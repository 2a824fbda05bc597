#!/usr/bin/env bash
# Runs a single-node Apache Kafka (KRaft, combined broker + controller) from the jars that
# Maven fetches from Maven Central; no Kafka distribution, no Docker.
#
#   kafka.sh fetch                              copy the jars into the cache (idempotent)
#   kafka.sh start DATA_DIR PORT CONTROLLER_PORT   format (first time) and start; waits until ready
#   kafka.sh stop DATA_DIR                      stop cleanly (SIGTERM, then SIGKILL after 30 s)
#   kafka.sh status DATA_DIR                    exit 0 when the broker of DATA_DIR is running
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

write_config() {
  local data="$1" port="$2" cport="$3"
  cat >"$data/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data/log
num.partitions=${KAFKA_PARTITIONS:-6}
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
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
  need java "install Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)"
  fetch
  mkdir -p "$data"
  data="$(cd "$data" && pwd)"
  if pid_of "$data" >/dev/null; then
    echo "kafka.sh: already running (pid $(pid_of "$data")) in $data" >&2
    return 0
  fi
  write_config "$data" "$port" "$cport"
  local jvm
  set_jvm "$data"
  if [ ! -f "$data/log/meta.properties" ]; then
    "${jvm[@]}" kafka.tools.StorageTool format --ignore-formatted \
      -t "$("${jvm[@]}" kafka.tools.StorageTool random-uuid)" \
      -c "$data/server.properties" >"$data/format.log" 2>&1 \
      || die "formatting KRaft storage failed: $(cat "$data/format.log")"
  fi
  : >"$data/server.log"
  nohup "${jvm[@]}" kafka.Kafka "$data/server.properties" >"$data/stdout.log" 2>&1 </dev/null &
  echo $! >"$data/kafka.pid"
  local waited=0
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
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
