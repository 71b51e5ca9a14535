#!/usr/bin/env bash
# Installs the system packages the local stack needs (../shared/LOCAL-STACK.md): Java for
# DynamoDB Local, kcat for librdkafka's mock Kafka cluster, openssl for the enrichment TLS tests'
# certificates. Safe to run again; needs root for apt.
set -euo pipefail

need=()
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v kcat >/dev/null 2>&1 || need+=(kcat)
command -v openssl >/dev/null 2>&1 || need+=(openssl)

if [ ${#need[@]} -eq 0 ]; then
  echo "setup-machine: java, kcat and openssl present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "setup-machine: missing ${need[*]}; install them with: apt-get install -y ${need[*]}" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup-machine: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${need[@]}" </dev/null
