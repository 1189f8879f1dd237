#!/usr/bin/env bash
# First use in a fresh JVM, Forkless vs ProcessBuilder (docs/benchmarks.md, "First use in a fresh
# JVM"). Usage: bench/run-firstuse.sh [jar] [rounds] [java]  (defaults: target/forkless-*.jar, 30,
# the java on PATH). Writes nothing but its output; redirect it into bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
jar=${1:-$(ls target/forkless-*.jar | grep -v -e sources -e javadoc | head -1)}
rounds=${2:-30}
java=${3:-java}
javac_dir=$(dirname "$(readlink -f "$(command -v "$java")")")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$javac_dir/javac" -d "$out" -cp "$jar" bench/firstuse/FirstUse.java
echo "# jar=$jar ($(sha256sum "$jar" | cut -c1-12)) $(date -u +%FT%TZ) $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in warm cold; do
  "$java" -cp "$jar:$out" FirstUse "$rounds" "$mode" "$(readlink -f "$(command -v "$java")")"
done
