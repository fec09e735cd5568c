#!/bin/bash
# Runs inside the emulated Pi (pi-test.sh), as its init (PID 1), from the run disk mounted at
# /opt/pitest: sets up what the checks need (the simulated GPIO chip through configfs), runs them,
# prints their lines on the console for the host, and powers off. Its lines start with PICHECK.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root
say() { echo "PICHECK $*"; }
finish() {
    sync
    echo o > /proc/sysrq-trigger
    sleep 30
}
trap finish EXIT

mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run && mkdir -p /run/lock
mount -t tmpfs tmpfs /tmp
mount -t configfs configfs /sys/kernel/config
# The loopback interface up (the guest has no other network; the root has no iproute2, perl's ioctl
# does it: SIOCSIFFLAGS with IFF_UP | IFF_LOOPBACK | IFF_RUNNING).
perl -MSocket -e 'socket(my $s, PF_INET, SOCK_DGRAM, 0) or die; my $r = pack("a16s x22", "lo", 0x49); ioctl($s, 0x8914, $r) or die "lo: $!\n"' \
    || say "FAIL the loopback interface comes up"
kver=$(uname -r)
say "INFO kernel $kver, $(nproc) cpus, model: $(tr -d '\0' < /proc/device-tree/model)"

# The simulated chip: one bank of 54 lines (the BCM2835's), labelled as the Pi's header chip is, so
# that Pi4J (which picks the first chip whose label has "pinctrl") takes it.
if ! insmod "/lib/modules/$kver/extra/gpio-sim-meerkat.ko"; then say "FAIL gpio-sim loads"; exit 1; fi
cfg=/sys/kernel/config/gpio-sim/pi
mkdir "$cfg" "$cfg/gpio-bank0"
echo pinctrl-bcm2835 > "$cfg/gpio-bank0/label"
echo 54 > "$cfg/gpio-bank0/num_lines"
echo 1 > "$cfg/live" || { say "FAIL the simulated chip goes live"; exit 1; }
chip=$(cat "$cfg/gpio-bank0/chip_name")
sim=/sys/devices/platform/$(cat "$cfg/dev_name")/$chip
say "INFO simulated chip $chip at $sim"
if [ "$chip" = gpiochip0 ] && [ -c /dev/gpiochip0 ]; then say "PASS the simulated chip is /dev/gpiochip0"
else say "FAIL the simulated chip is /dev/gpiochip0 (it is $chip)"; fi
if command -v gpiodetect >/dev/null; then gpiodetect | sed 's/^/PICHECK INFO gpiodetect: /'; fi

# I2C: the kernel's I2C device interface, and an adapter numbered 1 (/dev/i2c-1, the Pi's header bus)
# with four chips as register files: BME280 0x76, SHT3x 0x44 (16-bit commands), ADS1115 0x48
# (16-bit registers), BH1750 0x23.
modprobe i2c-dev || say "FAIL i2c-dev loads"
if insmod "/lib/modules/$kver/extra/meerkat-i2c-sim.ko" bus=1 addrs=0x76,0x44,0x48,0x23 modes=1,2,3,1 && [ -c /dev/i2c-1 ]; then
    say "PASS /dev/i2c-1 is there, with the simulated chips"
else say "FAIL /dev/i2c-1 with the simulated chips"; fi

t0=$(date +%s%N)
java -Xshare:auto -XX:TieredStopAtLevel=1 -cp '/opt/pitest/meerkat/lib/*:/opt/pitest/check' PiCheck "$sim" i2c 2>&1 \
    | grep -v -E '^(WARNING: |INFO: |[A-Z][a-z]{2} [0-9]{2}, [0-9]{4} )' | sed '/^PICHECK /!s/^/PICHECK INFO java: /'
say "INFO the GPIO and I2C checks took $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# The agent end to end: `meerkat run` with a gpio-input sensor on line 5 and an sht3x under a lock, against the
# sandbox's embedded ZooKeeper and broker in this guest (no network beyond it), its readings
# checked at the broker as the line is driven from outside.
m=/opt/pitest/meerkat/bin/meerkat
e2e=/tmp/e2e
mkdir -p "$e2e/pi-1"
t0=$(date +%s)
"$m" sandbox --gateways 1 --zk-port 2181 --mqtt-port 1883 --dir "$e2e/sandbox" --duration 20m > "$e2e/sandbox.log" 2>&1 &
for _ in $(seq 300); do grep -q '^Running' "$e2e/sandbox.log" && break; sleep 1; done
if grep -q '^Running' "$e2e/sandbox.log"; then say "INFO the sandbox (ZooKeeper, broker) is up after $(( $(date +%s) - t0 )) s"
else say "FAIL the sandbox starts: $(tail -n 5 "$e2e/sandbox.log" | tr '\n' ' ')"; say DONE; exit 1; fi
cat > "$e2e/agent.yaml" <<YAML
device:
  id: pi-1
  fleet: sandbox
zookeeper:
  connect: 127.0.0.1:2181
  root: /meerkat
  sessionTimeout: 30s
mqtt:
  uri: tcp://127.0.0.1:1883
storage:
  dir: $e2e/pi-1
admin:
  socket: $e2e/pi-1/admin.sock
YAML
echo '{"driver": "gpio-input", "bus": {"gpio": 5}, "interval": "2s", "settings": {"debounce": "0ms"}}' > "$e2e/door.json"
echo '{"driver": "sht3x", "bus": {"i2c": 1, "address": "0x44"}, "interval": "1s", "lock": "pi/i2c-1/0x44", "settings": {"repeatability": "medium"}}' > "$e2e/air.json"
echo pull-down > "$sim/sim_gpio5/pull"
for s in door air; do
    if "$m" config push --config "$e2e/agent.yaml" --fleet sandbox --device pi-1 --sensor "$s" "$e2e/$s.json" > "$e2e/push.log" 2>&1
    then say "PASS meerkat config push: the device's $s sensor document written"
    else say "FAIL meerkat config push $s: $(tail -n 5 "$e2e/push.log" | tr '\n' ' ')"; fi
done
"$m" run --config "$e2e/agent.yaml" > "$e2e/agent.log" 2>&1 &
agent=$!
java -XX:TieredStopAtLevel=1 -cp '/opt/pitest/meerkat/lib/*:/opt/pitest/check' PiCheck e2e "$sim" tcp://127.0.0.1:1883 meerkat/sandbox/pi-1/sensors/ 2>&1 \
    | grep -v -E '^(WARNING: |INFO: |[A-Z][a-z]{2} [0-9]{2}, [0-9]{4} )' | sed '/^PICHECK /!s/^/PICHECK INFO java: /'
if "$m" status --config "$e2e/agent.yaml" > "$e2e/status.txt" 2>&1; then
    sed 's/^/PICHECK INFO status: /' "$e2e/status.txt" | head -n 40
else say "FAIL meerkat status: $(tail -n 5 "$e2e/status.txt" | tr '\n' ' ')"; fi
# doctor looks at the chip the agent uses (found by its label, as Pi4J finds it) and at the I2C bus.
"$m" doctor --config "$e2e/agent.yaml" > "$e2e/doctor.txt" 2>&1
if grep -Eq '^OK +bus gpiochip0 ' "$e2e/doctor.txt" && grep -Eq '^OK +bus i2c-1 ' "$e2e/doctor.txt"; then
    say "PASS meerkat doctor: bus gpiochip0 (the header's chip, by its label) and bus i2c-1 OK"
else say "FAIL meerkat doctor's buses: $(grep -E 'bus' "$e2e/doctor.txt" | tr '\n' ' ')"; fi
grep -E 'WARN|ERROR' "$e2e/agent.log" | head -n 20 | sed 's/^/PICHECK INFO agent: /'
kill "$agent" 2>/dev/null; wait "$agent"
say "INFO the agent end to end took $(( $(date +%s) - t0 )) s"
say DONE
