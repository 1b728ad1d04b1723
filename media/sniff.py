"""What an uploaded file really is, from its first bytes: never from its name or the type the client declared.

Each accepted format is recognised by its own signature. puremagic is not used: it ranks a HEIC photo as
video/mp4 and cannot tell WebM from Matroska, and the nine accepted formats have signatures short enough to
check exactly. The ISO-BMFF family (HEIC, AVIF, MP4, QuickTime) shares one container, so it is told apart by
the brands of its `ftyp` box (`format_for_brands`).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from models.media import MediaKind

# Enough for every signature below; an `ftyp` box listing many compatible brands still fits.
SNIFF_BYTES = 4096


@dataclass(frozen=True)
class Sniffed:
    kind: MediaKind
    content_type: str
    extension: str


JPEG = Sniffed(MediaKind.IMAGE, "image/jpeg", "jpg")
PNG = Sniffed(MediaKind.IMAGE, "image/png", "png")
WEBP = Sniffed(MediaKind.IMAGE, "image/webp", "webp")
GIF = Sniffed(MediaKind.IMAGE, "image/gif", "gif")
HEIC = Sniffed(MediaKind.IMAGE, "image/heic", "heic")
AVIF = Sniffed(MediaKind.IMAGE, "image/avif", "avif")
MP4 = Sniffed(MediaKind.VIDEO, "video/mp4", "mp4")
QUICKTIME = Sniffed(MediaKind.VIDEO, "video/quicktime", "mov")
WEBM = Sniffed(MediaKind.VIDEO, "video/webm", "webm")

AVIF_BRANDS = frozenset({b"avif", b"avis"})
HEIC_BRANDS = frozenset({b"heic", b"heix"})
# Plain HEIF brands: the codec inside (HEVC or AV1) is told by the compatible brands.
GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
QUICKTIME_BRANDS = frozenset({b"qt  "})
# iso4-iso6 are what fragmented (DASH/CMAF) MP4 writers put first.
MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V "}
)
# Formats built on MP4 that list MP4 brands as compatible but are no picture or video of ours:
# iTunes audio and audiobooks, Flash audio, Canon raw photos.
REFUSED_MAJOR_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ", b"crx "})

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
EBML_DOCTYPE_ID = 0x4282


def sniff(head: bytes) -> Sniffed | None:
    """The accepted format the bytes really are (from explicit signature checks), else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:15] == b"VP8":
        return WEBP
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head.startswith(EBML_MAGIC):
        return WEBM if _ebml_doctype(head) == b"webm" else None
    return None


def format_for_brands(major: bytes, compatible: Sequence[bytes]) -> Sniffed | None:
    """The format of an ISO-BMFF file from its `ftyp` brands: the major brand decides when it is one we
    know; otherwise the compatible brands do, the more specific family first (AVIF, HEIC, QuickTime, MP4)."""
    if major in AVIF_BRANDS:
        return AVIF
    if major in HEIC_BRANDS:
        return HEIC
    if major in GENERIC_HEIF_BRANDS:
        return AVIF if AVIF_BRANDS.intersection(compatible) else HEIC
    if major in QUICKTIME_BRANDS:
        return QUICKTIME
    if major in MP4_BRANDS:
        return MP4
    if major in REFUSED_MAJOR_BRANDS:
        return None
    # Cameras put their own brand first (Sony "XAVC", for one) and list the standard ones after it.
    brands = set(compatible)
    for family, found in (
        (AVIF_BRANDS, AVIF),
        (HEIC_BRANDS | GENERIC_HEIF_BRANDS, HEIC),
        (QUICKTIME_BRANDS, QUICKTIME),
        (MP4_BRANDS, MP4),
    ):
        if family & brands:
            return found
    return None


def _sniff_ftyp(head: bytes) -> Sniffed | None:
    if len(head) < 16:
        return None
    (box_size,) = struct.unpack(">I", head[:4])
    # Size 1 means a 64-bit size follows (never seen on an ftyp box), 0 "to the end of the file": either way
    # the brands run to the end of what was read.
    end = len(head) if box_size in (0, 1) else min(box_size, len(head))
    if box_size not in (0, 1) and box_size < 16:
        return None
    major = head[8:12]
    compatible = [head[i : i + 4] for i in range(16, end - 3, 4)]
    return format_for_brands(major, compatible)


def _ebml_doctype(head: bytes) -> bytes | None:
    """The DocType string of the EBML header ("webm", "matroska" …), when it lies within `head`."""
    header_id = _read_vint(head, 0, keep_marker=True)
    header_size = _read_vint(head, header_id[1], keep_marker=False) if header_id else None
    if header_size is None:
        return None
    position = header_size[1]
    end = min(len(head), position + header_size[0])
    while position < end:
        element_id = _read_vint(head, position, keep_marker=True)
        if element_id is None:
            return None
        element_size = _read_vint(head, element_id[1], keep_marker=False)
        if element_size is None:
            return None
        size, data_start = element_size
        if element_id[0] == EBML_DOCTYPE_ID:
            return head[data_start : data_start + size].rstrip(b"\x00")
        position = data_start + size
    return None


def _read_vint(buffer: bytes, position: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at `position`: (value, position after it). Element ids keep their
    length marker bit, sizes drop it."""
    if position >= len(buffer) or buffer[position] == 0:
        return None
    first = buffer[position]
    length = 9 - first.bit_length()
    if position + length > len(buffer):
        return None
    value = first if keep_marker else first & ((1 << (8 - length)) - 1)
    for byte in buffer[position + 1 : position + length]:
        value = (value << 8) | byte
    return value, position + length
