#!/bin/bash
# Stage 2 of the guest harness, in the overlay root (the host's / read-only
# with a tmpfs on top): finish the mounts a test expects, make the guest
# kernel's modules and config visible where kmod and libbpf look for them,
# run the one command, record its exit status, power off.
# Inputs come from the exchange share: env (KVER, KDIR, WORKDIR, WRITABLE),
# cmd.
xchg=/mnt/guest-xchg
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. "$xchg/env"

mount -t tmpfs -o mode=0755 run /run
# /tmp stays the overlay's: the host's /tmp shows through (a checkout or a
# build under /tmp, as a CI clone may be, must be visible here) and writes
# land in the tmpfs upper layer, never on the host.
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs shm /dev/shm
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null

mkdir -p "/lib/modules/$KVER"
mount --bind "$KDIR/pkg/lib/modules/$KVER" "/lib/modules/$KVER"
ln -sf "$KDIR/config" "/boot/config-$KVER"
modprobe -q tun  # /dev/net/tun for the labs
for i in "${!WRITABLE[@]}"; do
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 "w$i" "${WRITABLE[$i]}"
done
hostname mapgw-guest
ip link set lo up
# Plain \n on the console, as the host's pipe expects.
stty -F /dev/console -onlcr 2>/dev/null

cd "$WORKDIR" || echo "guest: no directory $WORKDIR" >/dev/console
: >"$xchg/started"
set +e
bash "$xchg/cmd" </dev/null >/dev/console 2>&1
echo $? >"$xchg/status"
sync
echo o >/proc/sysrq-trigger
sleep 10 2>/dev/null  # the power-off takes the root away meanwhile
