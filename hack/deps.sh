#!/usr/bin/env bash
# Copyright 2026 The Arcturus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Installs the Debian packages Arcturus needs when they are missing.
#   hack/deps.sh node   what a node runs pods with: containerd, runc, the CNI
#                       plugins, QEMU
#   hack/deps.sh metal  what the bare-metal services and their lab use: iPXE
#                       binaries, UEFI firmware, OpenIPMI's ipmi_sim, QEMU
#   hack/deps.sh test   all of that, plus what the tests build their images
#                       and VMs from (static busybox, a kernel, boot-disk tools)
set -euo pipefail

node=(containerd runc containernetworking-plugins qemu-system-x86 qemu-utils iproute2 iptables)
metal=(ipxe ovmf openipmi ipmitool qemu-system-x86 qemu-utils iproute2 linux-image-amd64)
test=("${node[@]}" "${metal[@]}" busybox-static linux-image-amd64 cpio syslinux syslinux-common mtools dosfstools genisoimage)

case "${1:-node}" in
  node) packages=("${node[@]}") ;;
  metal) packages=("${metal[@]}") ;;
  test) packages=("${test[@]}") ;;
  *) echo "usage: $0 [node|metal|test]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
