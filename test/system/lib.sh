# What the system tests share: sourced by systemd-test.sh and arm-test.sh after they set $test
# (the name their lines start with). One line per check, counted; the closing line
# "NAME: N passed, N failed" is theirs to print.
passed=0
failed=0
t_start=$(date +%s)

log() { printf '%s %s: %s\n' "$(date -u +%H:%M:%S)" "$test" "$*"; }
pass() { passed=$((passed + 1)); log "PASS $*"; }
fail() { failed=$((failed + 1)); log "FAIL $*"; }
check() { # check "what" command...: passes when the command exits 0
    local what=$1; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
die() { log "cannot run: $*"; exit 1; }

mirror() { # the Debian mirror this machine's apt uses; never a host name written here
    local m
    m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -n 1)
    [ -n "$m" ] || m=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v -- '-security' | head -n 1)
    printf '%s' "$m"
}
