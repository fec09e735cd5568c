#!/usr/bin/env bash
# The drivers on real kernel devices: an emulated Raspberry Pi (issue 29). QEMU's `virt` arm64
# machine (no KVM for arm64 here: TCG, 2 vCPUs) boots Debian trixie's arm64 kernel with a root made
# by `debootstrap --arch=arm64`. Linux's gpio-sim (not built in Debian's kernel, so built here out
# of tree from the matching linux-source package) gives it a real /dev/gpiochip0 whose lines the
# checks drive and read from the kernel's side; pi/meerkat-i2c-sim.c, a module of the test's own,
# gives it /dev/i2c-1 with chips that are register files; the device tree says "Raspberry Pi 3
# Model B", as Pi4J wants before its gpiod plugin works. Inside (pi/guest.sh is the guest's init),
# pi/PiCheck.java opens Meerkat's drivers through the agent's own Pi4jBuses (Pi4J's gpiod and
# linuxfs plugins and their aarch64 natives, libgpiod, the kernel's devices) and checks them against
# the kernel's side and the datasheets; then `meerkat run` end to end in the guest, against the
# ZooKeeper and broker of `meerkat sandbox`, with a GPIO sensor and an SHT3x under a lock.
#
# Usage (as root, on Debian with debootstrap, qemu-user-static, qemu-system-arm, device-tree-compiler;
# .ci/run installs them):
#   test/system/pi-test.sh [prepare] [DIST]
# With "prepare", only the cached parts are made (root, module, kernel, device tree, disk image):
# .ci/run starts that beside the Maven build. DIST defaults to packaging/target/meerkat-VERSION.
# The cache is $MEERKAT_SYSTEST_CACHE/pi (default /var/cache/meerkat-systest/pi); it is made once
# (under emulation: about 14 minutes) and kept; a run after it takes 2-3 minutes. KEEP=1 keeps
# the run's directory (the guest's console log).
# Prints one line per check and "pi-test: N passed, N failed"; exits 1 if any failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
only_prepare=false
if [ "${1:-}" = prepare ]; then only_prepare=true; shift; fi
dist=${1:-$(ls -d "$project"/packaging/target/meerkat-*/ 2>/dev/null | head -n 1)}
cache=${MEERKAT_SYSTEST_CACHE:-/var/cache/meerkat-systest}/pi
test=pi-test
# shellcheck source=lib.sh
. "$here/lib.sh"

[ "$(id -u)" = 0 ] || die "run it as root (chroot, binfmt)"
for tool in debootstrap qemu-system-aarch64 dtc mkfs.ext4; do
    command -v "$tool" >/dev/null || die "needs $tool: apt-get install -y debootstrap qemu-system-arm device-tree-compiler e2fsprogs"
done
[ -f /usr/lib/binfmt.d/qemu-aarch64.conf ] || die "needs qemu-user-static (the root is made and the module built under it)"

# The guest machine: the same options for the device tree's dump and for the boot.
machine=(-M virt -cpu cortex-a53 -smp 2 -m 2048)
mkdir -p "$cache"
exec 9> "$cache/.lock"
flock 9 # one preparation at a time (the CI starts it early, the run waits for it)

register_aarch64() { # qemu-user for the chroot, registered with binfmt_misc (F: no copy in the root)
    mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
    if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
        local line
        line=$(grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf | head -n 1)
        case "${line##*:}" in *F*) ;; *) line="${line}F" ;; esac
        printf '%s' "$line" > /proc/sys/fs/binfmt_misc/register || die "cannot register qemu-aarch64"
    fi
}

root=$cache/root
stamp="trixie arm64 pi v1"
prepare_root() {
    [ "$(cat "$root/.meerkat-systest" 2>/dev/null)" = "$stamp" ] && return 0
    register_aarch64
    local m t0
    m=$(mirror)
    [ -n "$m" ] || die "no Debian mirror in /etc/apt/sources.list*"
    log "making the guest's root (debootstrap under emulation, once; about 12 minutes)"
    t0=$(date +%s)
    rm -rf "$root.new" "$cache/image.stamp"
    mkdir -p "$cache/debs"
    # The kernel and its headers come from the same suite as linux-source, so the module matches.
    debootstrap --arch=arm64 --variant=minbase \
        --include=openjdk-21-jre-headless,linux-image-arm64,linux-headers-arm64,linux-source-6.12,gcc,make,kmod,gpiod,procps,xz-utils \
        --cache-dir="$cache/debs" trixie "$root.new" "$m" > "$cache/debootstrap.log" 2>&1 \
        || { tail -n 20 "$cache/debootstrap.log"; die "debootstrap failed"; }
    echo "$stamp" > "$root.new/.meerkat-systest"
    rm -rf "$root"
    mv "$root.new" "$root"
    log "guest root made in $(( $(date +%s) - t0 )) s"
}

kver() { ls "$root/lib/modules" | head -n 1; }

# gpio-sim and the interrupt simulator it needs (IRQ_SIM is not set in Debian's kernel either), one
# module, from the kernel's own sources (one change: irq_to_desc() is not exported to modules); and
# the test's own I2C chips (pi/meerkat-i2c-sim.c), rebuilt when that file changes.
prepare_module() {
    local k dir src sum
    k=$(kver)
    dir=$root/lib/modules/$k/extra
    sum="v1 $(sha256sum < "$here/pi/meerkat-i2c-sim.c" | cut -c1-16)"
    [ -f "$dir/gpio-sim-meerkat.ko" ] && [ -f "$dir/meerkat-i2c-sim.ko" ] && [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$sum" ] && return 0
    register_aarch64
    log "building gpio-sim and meerkat-i2c-sim for $k (under emulation)"
    src=$(ls "$root"/usr/src/linux-source-*.tar.xz | head -n 1)
    [ -f "$src" ] || die "no linux-source tarball in the root"
    local b=$root/build/modules top
    rm -rf "$b" && mkdir -p "$b"
    top=$(basename "$src" .tar.xz)
    tar -xJf "$src" -C "$b" --strip-components=3 "$top/drivers/gpio/gpio-sim.c" "$top/drivers/gpio/gpiolib.h" \
        || die "gpio-sim.c not in $src"
    tar -xJf "$src" -C "$b" --strip-components=3 "$top/kernel/irq/irq_sim.c" || die "irq_sim.c not in $src"
    sed -i 's/handle_simple_irq(irq_to_desc(\([^()]*\)))/generic_handle_irq(\1)/' "$b/irq_sim.c" "$b/gpio-sim.c"
    if grep -n 'irq_to_desc' "$b/irq_sim.c" "$b/gpio-sim.c"; then die "irq_to_desc still used after the patch"; fi
    cp "$here/pi/meerkat-i2c-sim.c" "$b/"
    printf 'obj-m := gpio-sim-meerkat.o meerkat-i2c-sim.o\ngpio-sim-meerkat-y := gpio-sim.o irq_sim.o\n' > "$b/Makefile"
    chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin make -C "/lib/modules/$k/build" M=/build/modules modules \
        > "$cache/module.log" 2>&1 || { tail -n 30 "$cache/module.log"; die "the modules did not build"; }
    mkdir -p "$dir"
    cp "$b/gpio-sim-meerkat.ko" "$b/meerkat-i2c-sim.ko" "$dir/"
    echo "$sum" > "$dir/.stamp"
    rm -f "$cache/image.stamp" # the image holds the modules
}

# The device tree QEMU makes for the machine, with a Pi's model (Pi4J reads /proc/device-tree/model
# by prefix) and the virt board's own GPIO controller (a PL061) off, so the simulated chip is gpiochip0.
prepare_dtb() {
    [ -f "$cache/pi.dtb" ] && [ "$(cat "$cache/dtb.stamp" 2>/dev/null)" = "${machine[*]}" ] && return 0
    qemu-system-aarch64 "${machine[@]}" -machine dumpdtb="$cache/virt.dtb" -nographic > /dev/null 2>&1 || die "qemu could not dump its device tree"
    dtc -q -I dtb -O dts -o "$cache/virt.dts" "$cache/virt.dtb" || die "dtc could not read the device tree"
    awk '
        /^\tmodel = / { next }
        !root && /^\/ \{/ { print; print "\tmodel = \"Raspberry Pi 3 Model B Rev 1.2\";"; root = 1; next }
        /^\tpl061@/ { print; print "\t\tstatus = \"disabled\";"; next }
        { print }' "$cache/virt.dts" > "$cache/pi.dts"
    grep -q 'Raspberry Pi 3' "$cache/pi.dts" && grep -A1 'pl061@' "$cache/pi.dts" | grep -q disabled || die "the device tree was not patched"
    dtc -q -I dts -O dtb -o "$cache/pi.dtb" "$cache/pi.dts" || die "dtc could not write the device tree"
    echo "${machine[*]}" > "$cache/dtb.stamp"
}

# The root as a disk image (made from the directory, no mount needed); each boot writes to a
# throw-away overlay (snapshot=on), so the image stays as made.
prepare_image() {
    [ -f "$cache/root.img" ] && [ "$(cat "$cache/image.stamp" 2>/dev/null)" = "$stamp $(kver)" ] && return 0
    log "writing the guest's disk image"
    mkdir -p "$root/opt/pitest"
    install -m 755 /dev/stdin "$root/usr/local/sbin/meerkat-pi-init" <<'EOF'
#!/bin/sh
# The guest's init: the run disk holds what to run (pi-test.sh writes it each run).
mount -t ext4 -o ro /dev/vdb /opt/pitest && exec /bin/bash /opt/pitest/guest.sh
echo "PICHECK FAIL the run disk mounts"
echo o > /proc/sysrq-trigger
EOF
    cp "$root/boot/vmlinuz-$(kver)" "$cache/vmlinuz"
    cp "$root/boot/initrd.img-$(kver)" "$cache/initrd.img" || die "no initramfs in the root"
    rm -f "$cache/root.img"
    mkfs.ext4 -q -F -L meerkat-pi -d "$root" "$cache/root.img" 4G || die "mkfs.ext4 -d failed"
    echo "$stamp $(kver)" > "$cache/image.stamp"
}

t_prep=$(date +%s)
prepare_root
prepare_module
prepare_dtb
prepare_image
log "prepared in $(( $(date +%s) - t_prep )) s (kernel $(kver))"
flock -u 9
$only_prepare && exit 0

[ -n "$dist" ] && [ -x "$dist/bin/meerkat" ] || die "no distribution (build it first: ./mvnw -B package -DskipTests)"
java_home=${JAVA_HOME:-$("$project/.mvn/find-jdk" 2>/dev/null)}
[ -x "$java_home/bin/javac" ] || die "needs a JDK 21 or newer to compile PiCheck.java (JAVA_HOME)"

# The run disk: the distribution, the check compiled against it, the guest's script.
run=$(mktemp -d /var/tmp/meerkat-pitest.XXXXXX)
[ "${KEEP:-}" = 1 ] && log "keeping $run" || trap 'rm -rf "$run"' EXIT
mkdir -p "$run/disk/check"
cp -a "$dist" "$run/disk/meerkat"
"$java_home/bin/javac" --release 21 -cp "$dist/lib/*" -d "$run/disk/check" "$here/pi/PiCheck.java" || die "PiCheck.java does not compile"
cp "$here/pi/guest.sh" "$run/disk/guest.sh"
mkfs.ext4 -q -F -d "$run/disk" "$run/run.img" 512M || die "mkfs.ext4 -d of the run disk failed"

log "booting the emulated Pi"
t0=$(date +%s)
timeout 900 qemu-system-aarch64 "${machine[@]}" -nographic -no-reboot -nic none \
    -kernel "$cache/vmlinuz" -initrd "$cache/initrd.img" -dtb "$cache/pi.dtb" \
    -append "console=ttyAMA0 root=/dev/vda rw init=/usr/local/sbin/meerkat-pi-init panic=-1 loglevel=3" \
    -drive "file=$cache/root.img,if=virtio,format=raw,snapshot=on" \
    -drive "file=$run/run.img,if=virtio,format=raw" < /dev/null > "$run/console.log" 2>&1
rc=$?
log "the guest ran $(( $(date +%s) - t0 )) s (qemu exit $rc)"
tr -d '\r' < "$run/console.log" | grep '^PICHECK ' | sed 's/^PICHECK //' > "$run/results"
while IFS= read -r line; do
    case "$line" in
        PASS\ *) pass "${line#PASS }" ;;
        FAIL\ *) fail "${line#FAIL }" ;;
        INFO\ *) log "${line#INFO }" ;;
    esac
done < "$run/results"
if ! grep -q '^DONE' "$run/results"; then
    fail "the checks ran to their end in the guest (console's last lines below)"
    tr -d '\r' < "$run/console.log" | tail -n 40 | sed 's/^/    console: /'
fi
[ "$passed" -gt 0 ] || fail "no check ran"
log "run time $(( $(date +%s) - t_start )) s"
echo "pi-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
