#!/usr/bin/env bash
# The distribution on the processors of Raspberry Pis: Debian trixie roots for arm64 (64-bit
# Raspberry Pi OS, Pi 3/4/5/Zero 2) and armhf (32-bit Raspberry Pi OS), made with
# `debootstrap --arch`, run under qemu-user (binfmt registered here). In each: `meerkat --version`,
# every native library Meerkat ships loaded on that processor (NativeCheck.java: JNA, Pi4J's linuxfs
# and gpiod, Netty's epoll and BoringSSL), and a short `meerkat sandbox` (an embedded ZooKeeper and
# broker, a simulated gateway registering and publishing). On armhf Netty has no natives: the check
# wants a clean fallback there (the JDK's NIO and TLS), and the sandbox to run all the same.
#
# Usage (as root, on Debian with debootstrap and qemu-user-static; .ci/run does this):
#   test/system/arm-test.sh [DIST] [ARCH...]
# DIST defaults to packaging/target/meerkat-VERSION (./mvnw -B package builds it); ARCH to
# "arm64 armhf". The roots are made once (under emulation: several minutes each) and kept in
# $MEERKAT_SYSTEST_CACHE (default /var/cache/meerkat-systest).
# Prints one line per check and "arm-test: N passed, N failed"; exits 1 if any failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
dist=${1:-$(ls -d "$project"/packaging/target/meerkat-*/ 2>/dev/null | head -n 1)}
shift || true
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(arm64 armhf)
cache=${MEERKAT_SYSTEST_CACHE:-/var/cache/meerkat-systest}
test=arm-test
# shellcheck source=lib.sh
. "$here/lib.sh"

[ "$(id -u)" = 0 ] || die "run it as root (chroot, binfmt)"
[ -n "$dist" ] && [ -x "$dist/bin/meerkat" ] || die "no distribution (build it first: ./mvnw -B package -DskipTests)"
command -v debootstrap >/dev/null || die "needs debootstrap: apt-get install -y debootstrap"
java_home=${JAVA_HOME:-$("$project/.mvn/find-jdk" 2>/dev/null)}
[ -x "$java_home/bin/javac" ] || die "needs a JDK 21 or newer to compile NativeCheck.java (JAVA_HOME)"

# qemu-user for a Debian architecture, registered with binfmt_misc with the F flag (the interpreter
# is opened now, so the roots need no copy of it).
register() {
    local q=$1 conf
    conf=/usr/lib/binfmt.d/qemu-$q.conf
    [ -f "$conf" ] || die "no $conf: apt-get install -y qemu-user-static"
    mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc \
        || die "cannot mount binfmt_misc"
    if [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$q" ]; then
        local line
        line=$(grep -v '^#' "$conf" | head -n 1)
        case "${line##*:}" in *F*) ;; *) line="${line}F" ;; esac
        printf '%s' "$line" > /proc/sys/fs/binfmt_misc/register || die "cannot register qemu-$q"
    fi
    grep -q enabled "/proc/sys/fs/binfmt_misc/qemu-$q" || die "qemu-$q is registered but disabled"
}

mounts=()
cleanup() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null; done
}
trap cleanup EXIT
trap "exit 1" INT TERM

nc_dir=$(mktemp -d /var/tmp/meerkat-nativecheck.XXXXXX)
"$java_home/bin/javac" --release 21 -d "$nc_dir" "$here/NativeCheck.java" || die "NativeCheck.java does not compile"

for arch in "${arches[@]}"; do
    case "$arch" in
        arm64) q=aarch64; netty_opt= ;;
        armhf) q=arm; netty_opt=--optional-netty ;;
        *) die "unknown architecture $arch (arm64, armhf)" ;;
    esac
    register "$q"
    root=$cache/$arch
    stamp="trixie $arch openjdk-21-jre-headless v1"
    if [ "$(cat "$root/.meerkat-systest" 2>/dev/null)" != "$stamp" ]; then
        m=$(mirror)
        [ -n "$m" ] || die "no Debian mirror in /etc/apt/sources.list*"
        log "making the $arch root (debootstrap under emulation, once; several minutes)"
        t0=$(date +%s)
        rm -rf "$root.new"
        mkdir -p "$cache/debs-$arch"
        debootstrap --arch="$arch" --variant=minbase --include=openjdk-21-jre-headless --cache-dir="$cache/debs-$arch" \
            trixie "$root.new" "$m" > "$cache/debootstrap-$arch.log" 2>&1 \
            || { tail -n 20 "$cache/debootstrap-$arch.log"; die "debootstrap of $arch failed"; }
        echo "$stamp" > "$root.new/.meerkat-systest"
        rm -rf "$root"
        mv "$root.new" "$root"
        log "$arch root made in $(( $(date +%s) - t0 )) s"
    fi

    mount -t proc proc "$root/proc" && mounts+=("$root/proc")
    mount --bind /dev "$root/dev" && mounts+=("$root/dev")
    rm -rf "$root/opt/meerkat" "$root/opt/nativecheck" "$root/tmp/sandbox"
    mkdir -p "$root/opt"
    cp -a "$dist" "$root/opt/meerkat"
    cp -a "$nc_dir" "$root/opt/nativecheck"
    inroot() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

    machine=$(inroot uname -m)
    log "$arch: uname -m says $machine"
    version=$(inroot /opt/meerkat/bin/meerkat --version 2>&1)
    if [ $? = 0 ] && printf '%s' "$version" | grep -q 'meerkat'; then pass "$arch: meerkat --version: $(printf '%s' "$version" | head -n 1)"
    else fail "$arch: meerkat --version: $version"; fi

    out=$(inroot java -cp '/opt/meerkat/lib/*:/opt/nativecheck' NativeCheck $netty_opt 2>/dev/null)
    rc=$?
    printf '%s\n' "$out" | sed "s/^/    $arch: /"
    if [ "$rc" = 0 ]; then pass "$arch: the native libraries load"; else fail "$arch: the native libraries load"; fi
    if [ "$arch" = armhf ]; then
        if printf '%s' "$out" | grep -q '^FALLBACK netty-epoll'; then pass "armhf: Netty's epoll is missing and falls back cleanly (NIO)"
        else fail "armhf: expected Netty's epoll to fall back (it ships no armhf natives): $out"; fi
    fi

    # A short sandbox: an embedded ZooKeeper and broker and one simulated gateway, on free ports.
    t0=$(date +%s)
    inroot /opt/meerkat/bin/meerkat sandbox --gateways 1 --duration 90s > "$nc_dir/sandbox-$arch.log" 2>&1
    rc=$?
    tail -n 3 "$nc_dir/sandbox-$arch.log" | sed "s/^/    $arch sandbox: /"
    if [ "$rc" = 0 ] && grep -Eq '^gw-1 +yes +yes +[0-9.]+ +(climate|light) #[0-9]+' "$nc_dir/sandbox-$arch.log"; then
        pass "$arch: meerkat sandbox: the gateway registered and its readings reached the broker ($(( $(date +%s) - t0 )) s)"
    else
        fail "$arch: meerkat sandbox (exit $rc): $(tail -n 5 "$nc_dir/sandbox-$arch.log")"
    fi
    cleanup
    mounts=()
done

rm -rf "$nc_dir"
log "run time $(( $(date +%s) - t_start )) s"
echo "arm-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
