#!/usr/bin/env bash
# Installs what Kafka needs from Debian's packages (Java 17+ and Maven) when they are missing.
# Runs as root (CI and the dev machines) or through sudo; otherwise says what to install.
set -euo pipefail
missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]} (needed to fetch and run Apache Kafka)" >&2
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing: ${missing[*]}: install Java 17+ and Apache Maven, then run make again" >&2
  exit 1
fi
