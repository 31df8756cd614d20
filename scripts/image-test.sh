#!/usr/bin/env bash
# Proves the container image without a registry or a container daemon: builds the Dockerfile with
# Debian's buildah on a Debian 12 base made here by debootstrap, then runs `podmedic version` and a
# short `podmedic demo` from the image's root filesystem mounted read-only, as the image's non-root
# user (65532), with tmpfs on /tmp and the state volume as Kubernetes would mount them.
#
#   scripts/image-test.sh            (as root: debootstrap, buildah and mount need it)
#
# buildah: --storage-driver vfs (works on any filesystem, no fuse/overlay) and --isolation chroot
# (no runc/namespaces needed for RUN steps). The run is `unshare --mount` + `chroot --userspec`
# on a read-only bind mount of the image (buildah run has no read-only root option); the mounts
# vanish with the private mount namespace.
#
# Cached under $PODMEDIC_IMAGE_CACHE (default .tools/image): the debootstrap rootfs tarball and
# buildah's storage (the imported base and, with --layers, the apt layers of both stages; at most
# PODMEDIC_IMAGE_CACHE_MAX_GB, default 12, then pruned). The compiler cache is the Dockerfile's
# cache mount (buildah keeps it under /var/tmp/buildah-cache), so a second run recompiles only
# what changed. Delete both for a cold run.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
cache=${PODMEDIC_IMAGE_CACHE:-$src/.tools/image}
mirror=${PODMEDIC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=localhost/podmedic-debian:12
image=localhost/podmedic:image-test
mkdir -p "$cache"
bah=(buildah --root "$cache/storage" --runroot "$cache/run" --storage-driver vfs)
step() { printf '[image-test %(%H:%M:%S)T] %s\n' -1 "$*"; }

for tool in buildah debootstrap unshare chroot; do
  command -v "$tool" >/dev/null || { echo "image-test: needs $tool (scripts/setup.sh --tools)"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "image-test: needs root (debootstrap, mount, chroot)"; exit 1; }

# 1. A Debian 12 rootfs with the same apt sources as the official debian:12 image.
rootfs_tar=$cache/debian12-minbase.tar
if [ ! -s "$rootfs_tar" ]; then
  step "debootstrap bookworm (minbase) from $mirror"
  tmp=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1 \
    || { tail -20 "$tmp/debootstrap.log"; rm -rf "$tmp"; exit 1; }
  cat >"$tmp/root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
  rm -rf "$tmp/root/var/lib/apt/lists/"* "$tmp/root/var/cache/apt/archives/"*.deb
  tar -C "$tmp/root" --numeric-owner -cf "$rootfs_tar.part" .
  mv "$rootfs_tar.part" "$rootfs_tar"
  rm -rf "$tmp"
fi

# 2. The rootfs as a local image (buildah from scratch + copy the rootfs in).
if ! "${bah[@]}" inspect --type image "$base" >/dev/null 2>&1; then
  step "importing the rootfs as $base"
  ctr=$("${bah[@]}" from scratch)
  mnt=$("${bah[@]}" mount "$ctr")
  tar -C "$mnt" --numeric-owner -xf "$rootfs_tar"
  "${bah[@]}" umount "$ctr" >/dev/null
  "${bah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd /bin/bash "$ctr"
  "${bah[@]}" commit --quiet "$ctr" "$base" >/dev/null
  "${bah[@]}" rm "$ctr" >/dev/null
fi

# 3. The Dockerfile, both stages on that base.
step "buildah build (vfs, chroot isolation)"
"${bah[@]}" build --quiet --layers --isolation chroot \
  --build-arg BUILD_IMAGE="$base" --build-arg RUNTIME_IMAGE="$base" \
  -t "$image" -f Dockerfile . >"$cache/build.log" 2>&1 \
  || { tail -40 "$cache/build.log"; exit 1; }

# 4. Run it: read-only root, non-root user, tmpfs /tmp and state volume.
step "running podmedic from the image"
ctr=$("${bah[@]}" from --quiet "$image")
cleanup() {
  "${bah[@]}" rm "$ctr" >/dev/null 2>&1 || true
  # Bounded: every layer is a full copy under vfs (~1-2 GB for the build stage), and each run
  # with changed sources adds some. Beyond the bound, drop the untagged images (earlier runs'
  # layers, and the apt layers the next run then rebuilds); the base and the ccache stay.
  local max_kb=$((${PODMEDIC_IMAGE_CACHE_MAX_GB:-12} * 1024 * 1024))
  if [ "$(du -sk "$cache/storage" | cut -f1)" -gt "$max_kb" ]; then
    "${bah[@]}" rmi --prune >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
mnt=$("${bah[@]}" mount "$ctr")
user=$("${bah[@]}" inspect --type image --format '{{.OCIv1.Config.User}}' "$image")
[ "$user" = "65532:65532" ] || { echo "image-test: image user is '$user', want 65532:65532"; exit 1; }
out=$(unshare --mount --propagation private bash -s "$mnt" <<'EOF' 2>&1
set -euo pipefail
root=$(mktemp -d)
mount --bind "$1" "$root"
mount -o remount,bind,ro "$root"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mount -t tmpfs -o uid=65532,gid=65532,mode=0700 tmpfs "$root/var/lib/podmedic"
if chroot "$root" /bin/sh -c 'echo x > /probe' 2>/dev/null; then
  echo "FAIL: the root filesystem is writable"; exit 1
fi
echo "--- id"
chroot --userspec=65532:65532 "$root" /usr/bin/id -u
echo "--- version"
chroot --userspec=65532:65532 "$root" /usr/local/bin/podmedic version
echo "--- demo"
# No LLM here (as the chart runs without one): rules-based facts only.
printf 'diagnosis:\n  enabled: false\n' >"$root/tmp/podmedic.yaml"
chroot --userspec=65532:65532 "$root" /usr/bin/env -i HOME=/var/lib/podmedic TMPDIR=/tmp \
  /usr/local/bin/podmedic demo --duration 8s --step 200ms --listen 127.0.0.1:0 \
  --config /tmp/podmedic.yaml
echo "--- demo exit $?"
EOF
) || { echo "$out"; echo "image-test: FAILED running the image"; exit 1; }
echo "$out"
grep -qx 65532 <<<"$out" || { echo "image-test: not run as uid 65532"; exit 1; }
grep -q '^podmedic [0-9]' <<<"$out" || { echo "image-test: podmedic version printed nothing"; exit 1; }
grep -q '^synced: watching [1-9][0-9]* pods' <<<"$out" || { echo "image-test: the demo never synced"; exit 1; }
grep -q '^OPENED ' <<<"$out" || { echo "image-test: the demo opened no incident"; exit 1; }
grep -q -- '--- demo exit 0' <<<"$out" || { echo "image-test: the demo failed"; exit 1; }
size=$("${bah[@]}" images --format '{{.Size}}' "$image" 2>/dev/null || echo "?")
step "OK: image $image ($size) runs read-only as 65532"
