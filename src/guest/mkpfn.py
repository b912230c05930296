#!/usr/bin/env python3
"""Prefix an ext4 image with an NVDIMM pfn info block so the guest can mount it with DAX.

Usage: mkpfn.py EXT4_IMAGE OUTPUT_IMAGE

A raw (label-less) NVDIMM namespace only gets a pfn device, and so DAX, when its second 4 KiB
page holds a valid `struct nd_pfn_sb` (Linux drivers/nvdimm/pfn.h). The output is:

    [0, 4 KiB)        zeros
    [4 KiB, 8 KiB)    struct nd_pfn_sb, mode RAM (page structs live in guest RAM, so the
                      image is never written and can be shared read-only between VMs)
    [8 KiB, 2 MiB)    zeros
    [2 MiB, end)      the ext4 image, zero-padded so the total is a multiple of 2 MiB

The uuid is derived from a SHA-256 of the ext4 content, so equal inputs give equal outputs.
"""
import hashlib
import os
import struct
import sys

SZ_4K = 4096
SZ_2M = 2 * 1024 * 1024
DATA_OFFSET = SZ_2M       # first byte of the file system; 2 MiB aligned for PMD mappings
ALIGN = SZ_2M             # nd_pfn_sb.align; must be a supported alignment (4K or 2M on x86)
PFN_MODE_RAM = 1
PAGE_STRUCT_SIZE = 64     # MAX_STRUCT_PAGE_SIZE in the kernel
SIGNATURE = b"NVDIMM_PFN_INFO\0"

# struct nd_pfn_sb, all little endian, 4096 bytes:
#   0 signature[16]  16 uuid[16]  32 parent_uuid[16]  48 flags u32  52 version_major u16
#  54 version_minor u16  56 dataoff u64  64 npfns u64  72 mode u32  76 start_pad u32
#  80 end_trunc u32  84 align u32  88 page_size u32  92 page_struct_size u16
#  94 padding[3994]  4088 checksum u64
HEADER = struct.Struct("<16s16s16sIHHQQIIIIIH")
CHECKSUM_OFFSET = SZ_4K - 8
assert HEADER.size == 94 and 94 + 3994 == CHECKSUM_OFFSET


def fletcher64(block: bytes) -> int:
    """nd_fletcher64(block, len, le=true): sums of 32-bit little-endian words."""
    lo = 0
    hi = 0
    for (word,) in struct.iter_unpack("<I", block):
        lo = (lo + word) & 0xFFFFFFFF
        hi = (hi + lo) & 0xFFFFFFFF
    return (hi << 32) | lo


def info_block(uuid: bytes, npfns: int) -> bytes:
    head = HEADER.pack(
        SIGNATURE,
        uuid,
        bytes(16),          # parent_uuid: a raw namespace has the null uuid
        0,                  # flags
        1, 4,               # version 1.4 (page_size and page_struct_size are valid)
        DATA_OFFSET,
        npfns,
        PFN_MODE_RAM,
        0,                  # start_pad (deprecated)
        0,                  # end_trunc: total size is already 2 MiB aligned
        ALIGN,
        SZ_4K,              # page_size
        PAGE_STRUCT_SIZE,
    )
    block = head + bytes(SZ_4K - len(head))
    assert len(block) == SZ_4K
    csum = fletcher64(block)  # checksum field is still zero here
    return block[:CHECKSUM_OFFSET] + struct.pack("<Q", csum)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: mkpfn.py EXT4_IMAGE OUTPUT_IMAGE\n")
        return 2
    src, dst = argv[1], argv[2]

    digest = hashlib.sha256()
    with open(src, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    fs_size = os.path.getsize(src)
    if fs_size == 0 or fs_size % SZ_4K:
        sys.stderr.write(f"mkpfn: {src}: size {fs_size} is not a positive multiple of 4 KiB\n")
        return 1

    data_size = (fs_size + SZ_2M - 1) // SZ_2M * SZ_2M
    total = DATA_OFFSET + data_size
    npfns = (total - DATA_OFFSET) // SZ_4K

    # RFC 4122 version 4 / variant bits on a content-derived value (deterministic "random" uuid).
    u = bytearray(digest.digest()[:16])
    u[6] = (u[6] & 0x0F) | 0x40
    u[8] = (u[8] & 0x3F) | 0x80

    tmp = dst + ".tmp"
    with open(tmp, "wb") as out:
        out.write(bytes(SZ_4K))
        out.write(info_block(bytes(u), npfns))
        out.write(bytes(DATA_OFFSET - 2 * SZ_4K))
        with open(src, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                out.write(chunk)
        out.truncate(total)  # zero padding (sparse) up to the 2 MiB boundary
    os.replace(tmp, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
