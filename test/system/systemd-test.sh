#!/usr/bin/env bash
# The agent as a gateway runs it: Meerkat's .deb installed with apt on Debian trixie, started by a
# real systemd (PID 1 of a container booted with systemd-nspawn), with ZooKeeper (Debian's package)
# and mosquitto in the same container. It walks the operator's path (install, configure, config
# push, start, READY, readings, status, doctor, restart, kill -9, the watchdog on a frozen agent,
# upgrade by reinstall, remove, purge, lintian) and the faults the unit must survive: ZooKeeper
# refused and hung at start, hung for several watchdog periods while running, hung during a stop, a
# bad bootstrap file.
#
# Usage (as root, on Debian with debootstrap and systemd-container installed; .ci/run does this):
#   test/system/systemd-test.sh [DEB]
# DEB defaults to packaging/target/meerkat_*_all.deb (./mvnw -B package builds it). The trixie root
# is made once with debootstrap, from the mirror in this machine's apt sources, and kept in
# $MEERKAT_SYSTEST_CACHE (default /var/cache/meerkat-systest); each run boots a throwaway overlay of it.
# Prints one line per check and, at the end, "systemd-test: N passed, N failed"; exits 1 if any failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
deb=${1:-$(ls "$project"/packaging/target/meerkat_*_all.deb 2>/dev/null | head -n 1)}
cache=${MEERKAT_SYSTEST_CACHE:-/var/cache/meerkat-systest}
name=meerkat-systest-$$
test=systemd-test
# shellcheck source=lib.sh
. "$here/lib.sh"

[ "$(id -u)" = 0 ] || die "run it as root (it boots a container)"
[ -n "$deb" ] && [ -f "$deb" ] || die "no .deb (build it first: ./mvnw -B package -DskipTests)"
command -v debootstrap >/dev/null && command -v systemd-nspawn >/dev/null \
    || die "needs debootstrap and systemd-nspawn: apt-get install -y debootstrap systemd-container"

# --- The trixie root, made once ------------------------------------------------------------------
# What the container needs: systemd, Java 21 for the agent (the package depends on it), ZooKeeper
# and mosquitto (the servers), lintian (trixie's), dbus-user-session, which dconf-service (pulled
# in by ZooKeeper's dependencies) wants, and perl-openssl-defaults, which provides the virtual
# package one of lintian's dependencies needs (debootstrap does not resolve virtual packages).
packages=systemd,systemd-sysv,dbus,dbus-user-session,openjdk-21-jre-headless,zookeeper,mosquitto,mosquitto-clients,lintian,perl-openssl-defaults,procps,iproute2
root=$cache/trixie
stamp="trixie $packages v1"

make_root() {
    local m new=$cache/trixie.new
    m=$(mirror)
    [ -n "$m" ] || die "no Debian mirror in /etc/apt/sources.list*"
    log "making the trixie root (debootstrap, once; about 2 minutes)"
    # A debootstrap that finished is kept, should what follows fail.
    if [ "$(cat "$new/.debootstrapped" 2>/dev/null)" != "$packages" ]; then
        rm -rf "$new"
        mkdir -p "$cache/debs"
        debootstrap --variant=minbase --include="$packages" --cache-dir="$cache/debs" trixie "$new" "$m" \
            > "$cache/debootstrap.log" 2>&1 || { tail -n 20 "$cache/debootstrap.log"; die "debootstrap failed"; }
        echo "$packages" > "$new/.debootstrapped"
    fi
    # ZooKeeper: trixie's package ships no unit, and its example config keeps the data under /tmp.
    # Written through the root's own paths (chroot), never through symlinks that resolve on the host.
    chroot "$new" sh -ec '
        mkdir -p /etc/zookeeper/meerkat-test /var/lib/zookeeper/data
        cp /etc/zookeeper/conf_example/* /etc/zookeeper/meerkat-test/
        sed -i "s#^dataDir=.*#dataDir=/var/lib/zookeeper/data#" /etc/zookeeper/meerkat-test/zoo.cfg
        grep -q "^4lw.commands.whitelist" /etc/zookeeper/meerkat-test/zoo.cfg || echo "4lw.commands.whitelist=ruok,mntr" >> /etc/zookeeper/meerkat-test/zoo.cfg
        chown -R zookeeper:zookeeper /var/lib/zookeeper
        cat > /etc/systemd/system/zookeeper.service <<EOF
[Unit]
Description=ZooKeeper (for Meerkat'"'"'s systemd test)
After=network.target
[Service]
User=zookeeper
ExecStart=/usr/share/zookeeper/bin/zkServer.sh start-foreground /etc/zookeeper/meerkat-test/zoo.cfg
Restart=no
[Install]
WantedBy=multi-user.target
EOF
        systemctl enable zookeeper.service mosquitto.service
        systemctl mask systemd-networkd-wait-online.service getty@tty1.service console-getty.service 2>/dev/null || true
        echo meerkat-gw > /etc/hostname
        apt-get check -q
    ' || die "the root is not consistent"
    echo "$stamp" > "$new/.meerkat-systest"
    rm -rf "$root"
    mv "$new" "$root"
}

if [ "$(cat "$root/.meerkat-systest" 2>/dev/null)" != "$stamp" ]; then
    t0=$(date +%s)
    make_root
    log "root made in $(( $(date +%s) - t0 )) s"
else
    log "using the cached root $root"
fi

# --- Boot a throwaway overlay of it -------------------------------------------------------------
run=$(mktemp -d /var/tmp/meerkat-systest.XXXXXX)
mkdir -p "$run/upper" "$run/work" "$run/merged"
if ! mount -t overlay overlay -o "lowerdir=$root,upperdir=$run/upper,workdir=$run/work" "$run/merged" 2>/dev/null; then
    log "no overlayfs here: copying the root"
    cp -a "$root/." "$run/merged/"
fi
machine=$run/merged
cp "$deb" "$machine/root/meerkat.deb"

nspawn_pid=
cleanup() {
    if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        kill -TERM "$nspawn_pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$nspawn_pid" 2>/dev/null
    fi
    mountpoint -q "$machine" && umount -l "$machine"
    [ -n "${KEEP:-}" ] || rm -rf "$run"
}
trap cleanup EXIT
trap "exit 1" INT TERM

SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn -b -D "$machine" -M "$name" --register=no --keep-unit \
    --private-network --console=passive --system-call-filter=bpf > "$run/console.log" 2>&1 &
nspawn_pid=$!

pid1=
for _ in $(seq 1 100); do
    for c in $(pgrep -P "$nspawn_pid"); do
        if [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ]; then pid1=$c; fi
        for g in $(pgrep -P "$c"); do [ "$(cat "/proc/$g/comm" 2>/dev/null)" = systemd ] && pid1=$g; done
    done
    [ -n "$pid1" ] && break
    sleep 0.1
done
[ -n "$pid1" ] || { cat "$run/console.log"; die "the container did not boot"; }

# A command in the container, as root, with a plain environment; none may take more than 2 minutes
# (a start that waits for ever, as READY once did without a config, fails its check instead).
ct() { timeout 120 nsenter -t "$pid1" -a -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
booted() { local s; s=$(ct systemctl is-system-running 2>/dev/null); [ "$s" = running ] || [ "$s" = degraded ]; }
for _ in $(seq 1 300); do booted && break; sleep 0.2; done
state=$(ct systemctl is-system-running 2>&1)
log "booted: $state (systemd $(ct systemctl --version | head -n 1 | awk '{print $2}'))"

# Milliseconds on the container's monotonic clock, which systemd's *TimestampMonotonic use (us).
now_ms() { ct cat /proc/uptime | awk '{printf "%d", $1 * 1000}'; }
prop() { ct systemctl show -P "$2" "$1"; }
mono_ms() { echo $(( $(prop "$1" "$2") / 1000 )); }
wait_for() { # wait_for SECONDS command...: true once the command succeeds
    local limit=$1; shift
    local end=$(( $(date +%s) + limit ))
    while [ "$(date +%s)" -lt "$end" ]; do "$@" && return 0; sleep 0.2; done
    return 1
}
active() { [ "$(prop meerkat ActiveState)" = active ]; }
readings() { # readings N SECONDS: N readings arrive on MQTT within SECONDS
    ct timeout "$(( $2 + 5 ))" mosquitto_sub -h 127.0.0.1 -t 'meerkat/f1/gw-1/sensors/#' -C "$1" -W "$2" >/dev/null 2>&1
}
journal_since() { # journal_since CURSOR [journalctl options]: the unit's lines since CURSOR
    local cursor=$1; shift
    ct journalctl -u meerkat --no-pager -q --after-cursor="$cursor" "$@"
}
# The journal's cursor now (the whole journal's: the unit may have no entry yet).
cursor() { ct journalctl -n 1 --show-cursor --no-pager -q | sed -n 's/^-- cursor: //p'; }
zk() { ct systemctl "$1" zookeeper; }
zk_ok() { ct bash -c 'echo ruok | timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/2181; cat >&3; cat <&3"' 2>/dev/null | grep -q imok; }
zk_pid() { prop zookeeper MainPID; }
zk_hang() { ct kill -STOP "$(zk_pid)"; }
zk_resume() { ct kill -CONT "$(zk_pid)"; }
# Start to READY: from the unit's start job to ActiveEnter (READY=1 of a Type=notify unit).
ready_ms() { echo $(( $(mono_ms meerkat ActiveEnterTimestampMonotonic) - $(mono_ms meerkat InactiveExitTimestampMonotonic) )); }

# debootstrap leaves a policy-rc.d that forbids starting services; a real system has none.
ct rm -f /usr/sbin/policy-rc.d
# --- Install ----------------------------------------------------------------------------------------
ct apt-get install -y /root/meerkat.deb > "$run/install.log" 2>&1
check "apt install of the .deb" grep -q "Setting up meerkat" "$run/install.log"
ct dpkg -L meerkat > "$run/files.txt" 2>&1
# (trixie's /lib is a link to /usr/lib, so the file is found under both: the package's own list tells.)
check "the unit is in merged /usr (/usr/lib/systemd/system)" grep -qx /usr/lib/systemd/system/meerkat.service "$run/files.txt"
check "nothing installed under /lib, /bin or /sbin (aliased locations)" sh -c "grep -q '^/usr/share/meerkat/bin/meerkat$' '$run/files.txt' && ! grep -E '^/(lib|bin|sbin)/' '$run/files.txt'"
check "the service is enabled, not started" sh -c "[ \"\$(nsenter -t $pid1 -a -- systemctl is-enabled meerkat)\" = enabled ] && ! nsenter -t $pid1 -a -- systemctl is-active -q meerkat"
ct lintian --tag-display-limit 0 /root/meerkat.deb > "$run/lintian.log" 2>&1
lintian_rc=$?
check "trixie's lintian: no errors (exit 0: it ran and found none)" test "$lintian_rc" = 0
grep -E '^[EW]: ' "$run/lintian.log" | sed 's/^/    lintian: /'

# Shorter periods for the test (a drop-in, as an operator would): the watchdog at 10 s, so a
# 3-minute outage spans 18 of its periods.
ct mkdir -p /etc/systemd/system/meerkat.service.d
ct sh -c 'printf "[Service]\nWatchdogSec=10\nRestartSec=1\n" > /etc/systemd/system/meerkat.service.d/test.conf'
ct systemctl daemon-reload

# --- The gateway's bootstrap file (kept aside too, for the faults below) -----------------------------
ct sh -c 'cat > /root/agent.yaml.good <<EOF
device:
  id: gw-1
  fleet: f1
zookeeper:
  connect: 127.0.0.1:2181
  sessionTimeout: 6s
mqtt:
  uri: tcp://127.0.0.1:1883
EOF'

# --- A bad bootstrap file: an error in the journal, at error priority -------------------------------
ct sh -c 'printf "device:\n  fleet: \"bad fleet\"\n" > /etc/meerkat/agent.yaml'
c=$(cursor)
ct systemctl start meerkat
wait_for 20 sh -c "[ \"\$(nsenter -t $pid1 -a -- systemctl show -P ActiveState meerkat)\" != activating ]"
check "a bad bootstrap file: shown by journalctl -p err" sh -c "nsenter -t $pid1 -a -- journalctl -u meerkat -p err --no-pager -q --after-cursor='$c' | grep -q 'the bootstrap config is not valid'"
journal_since "$c" -p err | sed 's/^/    journal: /' | head -n 5
ct systemctl stop meerkat; ct systemctl reset-failed meerkat

# --- A secret file the agent may not read ---------------------------------------------------------
ct cp /root/agent.yaml.good /etc/meerkat/agent.yaml
ct sh -c 'echo gw-1 > /etc/meerkat/mqtt.user && chmod 600 /etc/meerkat/mqtt.user && echo "  usernameFile: /etc/meerkat/mqtt.user" >> /etc/meerkat/agent.yaml'
c=$(cursor)
ct systemctl start meerkat
wait_for 20 sh -c "[ \"\$(nsenter -t $pid1 -a -- systemctl show -P ActiveState meerkat)\" != activating ]"
check "a secret owned by root: the error says who must own it" sh -c "nsenter -t $pid1 -a -- journalctl -u meerkat -p err --no-pager -q --after-cursor='$c' | grep -q 'sudo chown meerkat: /etc/meerkat/mqtt.user'"
ct systemctl stop meerkat; ct systemctl reset-failed meerkat
ct cp /root/agent.yaml.good /etc/meerkat/agent.yaml
ct rm -f /etc/meerkat/mqtt.user

# --- Push the fleet's config, start --------------------------------------------------------------
wait_for 60 zk_ok || fail "ZooKeeper answers"
ct sh -c 'echo "{\"driver\":\"simulated\",\"interval\":\"500ms\"}" > /root/s1.json'
check "meerkat config push" ct meerkat config push --config /etc/meerkat/agent.yaml --fleet f1 --sensor s1 /root/s1.json

ct systemctl start meerkat
check "start: active (READY=1)" active
ready_up=$(ready_ms)
log "start to READY with ZooKeeper up: $ready_up ms"
check "readings on MQTT" readings 3 20
check "meerkat status (as the meerkat user): healthy" wait_for 20 ct runuser -u meerkat -- meerkat status
check "meerkat doctor" ct runuser -u meerkat -- meerkat doctor
check "meerkat status as a user without access: says permission denied" sh -c "nsenter -t $pid1 -a -- runuser -u nobody -- meerkat status 2>&1 | grep -q 'permission denied on the agent.s admin socket'"
check "STATUS= from the agent" sh -c "nsenter -t $pid1 -a -- systemctl show -P StatusText meerkat | grep -q 'registered, config fleet v'"

# --- A bus lock file left behind by a run as root -----------------------------------------------------
check "the package made the agent's lock directory /run/lock/meerkat" sh -c "[ \"\$(nsenter -t $pid1 -a -- stat -c %U:%a /run/lock/meerkat)\" = meerkat:775 ]"
ct sh -c 'touch /run/lock/meerkat/meerkat-i2c-1.lock && chmod 644 /run/lock/meerkat/meerkat-i2c-1.lock'
ct sh -c 'echo "{\"driver\":\"bme280\",\"bus\":{\"i2c\":1,\"address\":\"0x76\"},\"interval\":\"200ms\"}" > /root/s2.json'
ct meerkat config push --config /etc/meerkat/agent.yaml --fleet f1 --sensor s2 /root/s2.json >/dev/null
# (meerkat status exits 1 while the agent is not healthy, as it is here: only grep's answer counts)
lock_error() { { ct runuser -u meerkat -- meerkat status --json 2>/dev/null || true; } | grep -q "$1"; }
check "a root-owned bus lock file: the sensor's lastError names it and what to do" wait_for 30 lock_error 'sudo rm /run/lock/meerkat/meerkat-i2c-1.lock'
check "a root-owned bus lock file: doctor says so" sh -c "nsenter -t $pid1 -a -- runuser -u meerkat -- meerkat doctor 2>&1 | grep -q 'bus lock i2c-1'"
ct runuser -u meerkat -- meerkat sensors list | sed 's/^/    /'
ct rm -f /run/lock/meerkat/meerkat-i2c-1.lock
check "the lock file gone: the real problem shows (no /dev/i2c-1: enable I2C)" wait_for 150 lock_error 'no /dev/i2c-1: enable I2C'
ct runuser -u meerkat -- meerkat status --json | grep -A3 '"s2"' | sed 's/^/    /'
ct sh -c 'echo "{\"enabled\":false}" > /root/s2.json'
ct meerkat config push --config /etc/meerkat/agent.yaml --fleet f1 --sensor s2 /root/s2.json >/dev/null

# --- kill -9: systemd restarts it -----------------------------------------------------------------
pid=$(prop meerkat MainPID)
ct kill -9 "$pid"
check "kill -9: restarted and active again" wait_for 30 sh -c "[ \"\$(nsenter -t $pid1 -a -- systemctl show -P MainPID meerkat)\" != $pid ] && [ \"\$(nsenter -t $pid1 -a -- systemctl show -P ActiveState meerkat)\" = active ]"
check "readings after the restart" readings 2 20

# --- A frozen agent: the watchdog restarts it -----------------------------------------------------
c=$(cursor); pid=$(prop meerkat MainPID)
ct kill -STOP "$pid"
check "a frozen agent: the watchdog fires" wait_for 40 sh -c "nsenter -t $pid1 -a -- journalctl -u meerkat --no-pager -q --after-cursor='$c' | grep -q 'Watchdog timeout'"
check "a frozen agent: restarted and active" wait_for 60 sh -c "[ \"\$(nsenter -t $pid1 -a -- systemctl show -P MainPID meerkat)\" != $pid ] && [ \"\$(nsenter -t $pid1 -a -- systemctl show -P ActiveState meerkat)\" = active ]"

# --- ZooKeeper hung for 3 minutes while the agent runs: reported, never answered with a restart ----
wait_for 30 ct runuser -u meerkat -- meerkat status >/dev/null
c=$(cursor); pid=$(prop meerkat MainPID); restarts=$(prop meerkat NRestarts)
outage_t0=$(now_ms)
zk_hang
outage_s=${MEERKAT_SYSTEST_OUTAGE:-180}
log "ZooKeeper hung (SIGSTOP) for $outage_s s"
pings=(); last_ping=$(prop meerkat WatchdogTimestampMonotonic); status_seen=; topic_seen=
end=$(( $(date +%s) + outage_s ))
while [ "$(date +%s)" -lt "$end" ]; do
    p=$(prop meerkat WatchdogTimestampMonotonic)
    if [ "$p" != "$last_ping" ]; then pings+=("$p"); last_ping=$p; fi
    prop meerkat StatusText | grep -q "zookeeper not connected" && status_seen=yes
    if [ -z "$topic_seen" ] && ct timeout 5 mosquitto_sub -h 127.0.0.1 -t meerkat/f1/gw-1/status -C 1 -W 3 2>/dev/null \
        | grep -q '"zookeeper":{"connected":false}'; then topic_seen=yes; fi
    sleep 1
done
outage_t1=$(now_ms)
zk_resume
gaps=$(printf '%s\n' "${pings[@]}" | awk 'NR > 1 {g = ($1 - prev) / 1e6; if (g > max) max = g; n++} {prev = $1} END {printf "%d pings, longest gap %.1f s", n + 1, max}')
log "watchdog during the outage: $gaps (WatchdogSec=10)"
check "hung ZooKeeper: the same process ran through it (no restart)" test "$(prop meerkat MainPID)" = "$pid" -a "$(prop meerkat NRestarts)" = "$restarts"
check "hung ZooKeeper: no watchdog timeout" sh -c "! nsenter -t $pid1 -a -- journalctl -u meerkat --no-pager -q --after-cursor='$c' | grep -q 'Watchdog timeout'"
check "hung ZooKeeper: watchdog pings kept coming (at least one per 10 s period)" test "${#pings[@]}" -ge $(( outage_s / 10 ))
check "hung ZooKeeper: STATUS= said so" test -n "$status_seen"
check "hung ZooKeeper: the retained status topic said so" test -n "$topic_seen"
lines=$(journal_since "$c" -p warning | wc -l)
# After the first 30 s (the connection suspended, the session lost: each said once), the steady state.
steady=$(journal_since "$c" -p warning -o short-monotonic | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p' \
    | awk -v t0="$outage_t0" -v t1="$outage_t1" '{t = $1 * 1000} t >= t0 + 30000 && t < t1 {n++} END {print n + 0}')
per_min=$(awk -v l="$lines" -v s="$outage_s" 'BEGIN {printf "%.1f", l * 60 / s}')
steady_per_min=$(awk -v l="$steady" -v s="$outage_s" 'BEGIN {printf "%.1f", l * 60 / (s - 30)}')
log "warning and error lines during the outage: $lines in $outage_s s ($per_min a minute; $steady_per_min a minute after its first 30 s)"
journal_since "$c" -p warning | sed 's/^/    journal: /' | head -n 40
check "hung ZooKeeper: a handful of log lines, backing off (at most 2 a minute after the first 30 s)" awk -v p="$steady_per_min" 'BEGIN {exit !(p <= 2)}'
check "after the outage: registered again, readings flow" wait_for 60 ct runuser -u meerkat -- meerkat status

# --- READY does not wait for ZooKeeper: refused, and hung --------------------------------------------
zk stop
ct systemctl restart meerkat
r_refused=$(ready_ms)
log "start to READY with ZooKeeper refusing: $r_refused ms"
check "READY with ZooKeeper refusing: under 10 s" test "$r_refused" -lt 10000
check "readings with ZooKeeper refusing (from the last good config)" readings 2 20
zk start; wait_for 60 zk_ok
zk_hang
ct systemctl restart meerkat
r_hung=$(ready_ms)
log "start to READY with ZooKeeper hung: $r_hung ms"
check "READY with ZooKeeper hung: under 10 s" test "$r_hung" -lt 10000
check "STATUS= with ZooKeeper hung" sh -c "nsenter -t $pid1 -a -- systemctl show -P StatusText meerkat | grep -q 'zookeeper not connected'"

# --- A stop while ZooKeeper hangs ---------------------------------------------------------------------
zk_resume
wait_for 60 ct runuser -u meerkat -- meerkat status >/dev/null
zk_hang
t0=$(now_ms)
ct systemctl stop meerkat
stop_ms=$(( $(now_ms) - t0 ))
log "stop with ZooKeeper hung: $stop_ms ms (result $(prop meerkat Result))"
check "stop with ZooKeeper hung: clean (Result=success)" test "$(prop meerkat Result)" = success
check "stop with ZooKeeper hung: under 15 s (TimeoutStopSec=30)" test "$stop_ms" -lt 15000
zk_resume

# --- No config yet and ZooKeeper away: READY, waiting for a first config -----------------------------
zk stop
ct rm -f /var/lib/meerkat/config/last-good.json
ct systemctl start meerkat
r_none=$(ready_ms)
log "start to READY without a config, ZooKeeper refusing: $r_none ms"
check "READY without any config: under 10 s" test "$r_none" -lt 10000
check "STATUS= says it waits for a first config" sh -c "nsenter -t $pid1 -a -- systemctl show -P StatusText meerkat | grep -q 'waiting for a first config'"
t0=$(now_ms)
ct systemctl stop meerkat
log "stop while waiting for a first config: $(( $(now_ms) - t0 )) ms (result $(prop meerkat Result))"
check "stop while waiting for a first config: clean and quick" test "$(prop meerkat Result)" = success -a "$(( $(now_ms) - t0 ))" -lt 15000
zk start; wait_for 60 zk_ok

# --- Upgrade by reinstall: agent.yaml kept, the running agent restarted ---------------------------
ct systemctl start meerkat
pid=$(prop meerkat MainPID)
ct apt-get install -y --reinstall /root/meerkat.deb > "$run/reinstall.log" 2>&1
check "reinstall: agent.yaml kept" ct grep -q "id: gw-1" /etc/meerkat/agent.yaml
check "reinstall: the agent restarted and active" wait_for 30 sh -c "[ \"\$(nsenter -t $pid1 -a -- systemctl show -P MainPID meerkat)\" != $pid ] && [ \"\$(nsenter -t $pid1 -a -- systemctl show -P ActiveState meerkat)\" = active ]"

check "no [cds] lines in the journal after several clean stops (Java 21's archive made at the first)" sh -c "nsenter -t $pid1 -a -- ls /var/lib/meerkat/ | grep -q '^meerkat-21.jsa$' && ! nsenter -t $pid1 -a -- journalctl -u meerkat --no-pager -q | grep -F '[cds'"

# --- Remove and purge -------------------------------------------------------------------------------
ct apt-get remove -y meerkat > "$run/remove.log" 2>&1
check "remove: the agent stopped" sh -c "! nsenter -t $pid1 -a -- systemctl is-active -q meerkat"
ct apt-get purge -y meerkat > "$run/purge.log" 2>&1
check "purge: no warnings" sh -c "! grep -i 'warning' '$run/purge.log'"
grep -i warning "$run/purge.log" | sed 's/^/    purge: /'
check "purge: the unit is gone" sh -c "! nsenter -t $pid1 -a -- test -e /usr/lib/systemd/system/meerkat.service"

log "figures: READY up $ready_up ms, refused $r_refused ms, hung $r_hung ms, no config $r_none ms; stop with ZooKeeper hung $stop_ms ms;" \
    "watchdog $gaps; $per_min warning lines a minute during the outage; run time $(( $(date +%s) - t_start )) s"
echo "systemd-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
