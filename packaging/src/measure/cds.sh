#!/usr/bin/env bash
# Start time and resident memory of `meerkat run` without and with the class-data archive
# (docs/operations.md). After ./mvnw -B package; needs mosquitto_sub (mosquitto-clients).
# Uses ports 22181 and 21883. Takes about 5 minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
M=$here/../../target/meerkat-0.1.0/bin/meerkat
JAVA_HOME=${JAVA_HOME:-$("$here/../../../.mvn/find-jdk")}
export JAVA_HOME
W=${TMPDIR:-/tmp}/meerkat-cds; rm -rf $W; mkdir -p $W/state
$M sandbox --zk-port 22181 --mqtt-port 21883 --gateways 1 --duration 30m > $W/sandbox.log 2>&1 &
SB=$!
trap 'kill $SB 2>/dev/null || true' EXIT
for i in $(seq 60); do grep -q 22181 $W/sandbox.log && break; sleep 1; done
sleep 5
cat > $W/ops.yaml <<Y
zookeeper:
  connect: 127.0.0.1:22181
Y
for s in $(seq 1 10); do
  echo '{"driver": "simulated", "interval": "1s"}' > $W/s.json
  $M config push --config $W/ops.yaml --fleet cds --sensor s$s $W/s.json > /dev/null
done
cat > $W/agent.yaml <<Y
device: { id: gw-cds, fleet: cds }
zookeeper: { connect: "127.0.0.1:22181", sessionTimeout: 15s }
mqtt: { uri: "tcp://127.0.0.1:21883" }
storage: { dir: $W/state }
admin: { socket: $W/state/admin.sock }
Y
run() { # $1 label, $2 cds dir or empty
  rm -rf $W/state/journal $W/state/config
  mosquitto_sub -i cdsub -V mqttv311 -h 127.0.0.1 -p 21883 -C 1 -t 'meerkat/cds/gw-cds/sensors/#' > /dev/null &
  SUB=$!
  sleep 0.5
  t0=$(date +%s%N)
  if [ -n "$2" ]; then MEERKAT_CDS_DIR=$2 $M run --config $W/agent.yaml > $W/$1.log 2>&1 & else $M run --config $W/agent.yaml > $W/$1.log 2>&1 & fi
  P=$!
  until grep -q "agent started" $W/$1.log; do sleep 0.01; done; t1=$(date +%s%N)
  wait $SUB; t2=$(date +%s%N)
  sleep 60
  rss=$(awk '/VmRSS/ {print $2}' /proc/$P/status)
  cpu=$(awk '{print $14+$15}' /proc/$P/stat)
  kill -TERM $P; wait $P || true
  printf '%-10s started %5d ms  first reading %5d ms  RSS after 60 s %6d KiB  CPU ticks %d\n' "$1" $(( (t1-t0)/1000000 )) $(( (t2-t0)/1000000 )) "$rss" "$cpu"
}
run none ""
mkdir -p $W/cds
run training $W/cds
ls -la $W/cds
run archive $W/cds
run archive2 $W/cds
