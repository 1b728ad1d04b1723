"""media.sniff: a file is what its first bytes say, whatever it is called or declared as."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from media.sniff import SNIFF_BYTES, format_for_brands, sniff
from models.media import MediaKind
from tests.media import files


@pytest.mark.parametrize(
    ("make", "content_type", "extension", "kind"),
    [
        (lambda: files.gps_jpeg(), "image/jpeg", "jpg", MediaKind.IMAGE),
        (lambda: files.png_with_transparency(), "image/png", "png", MediaKind.IMAGE),
        (lambda: files.animated_webp(), "image/webp", "webp", MediaKind.IMAGE),
        (lambda: files.encode(files.solid((8, 8), files.RED), "WEBP"), "image/webp", "webp", MediaKind.IMAGE),
        (lambda: files.gif_two_frames(), "image/gif", "gif", MediaKind.IMAGE),
        (lambda: files.heic(), "image/heic", "heic", MediaKind.IMAGE),
        (lambda: files.avif(), "image/avif", "avif", MediaKind.IMAGE),
        (lambda: files.video(container="mp4"), "video/mp4", "mp4", MediaKind.VIDEO),
        (lambda: files.video(container="mp4", codec="libx264"), "video/mp4", "mp4", MediaKind.VIDEO),
        (lambda: files.video(container="mov"), "video/quicktime", "mov", MediaKind.VIDEO),
        (lambda: files.video(container="webm", codec="libvpx-vp9"), "video/webm", "webm", MediaKind.VIDEO),
    ],
    ids=[
        "jpeg",
        "png",
        "webp-animated",
        "webp-lossy",
        "gif",
        "heic",
        "avif",
        "mp4",
        "mp4-h264",
        "mov",
        "webm",
    ],
)
def test_each_accepted_format_is_recognised(
    make: Callable[[], bytes], content_type: str, extension: str, kind: MediaKind
) -> None:
    sniffed = sniff(make()[:SNIFF_BYTES])

    assert sniffed is not None
    assert (sniffed.content_type, sniffed.extension, sniffed.kind) == (content_type, extension, kind)


@pytest.mark.parametrize(
    "data",
    [
        files.text_file(),
        files.pdf_file(),
        files.svg_file(),
        files.zip_file(),
        b"",
        b"\x7fELF\x02\x01\x01\x00" + bytes(56),  # a Linux executable
        b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56),  # a Windows executable
        b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(24),  # RIFF, but a sound
        b"RIFF\x24\x00\x00\x00AVI LIST" + bytes(24),  # RIFF, but an AVI
        b"\xff\xd8",  # too short to be a JPEG
        b"GIF88a" + bytes(10),
        b'<html><img src="x.jpg"></html>',
    ],
    ids=[
        "text",
        "pdf",
        "svg",
        "zip",
        "empty",
        "elf",
        "exe",
        "wav",
        "avi",
        "short-jpeg",
        "gif-lookalike",
        "html",
    ],
)
def test_anything_else_is_refused(data: bytes) -> None:
    assert sniff(data) is None


def test_a_text_file_named_like_a_photo_is_still_text() -> None:
    # Given a text file a client called "holiday.jpg" and declared as image/jpeg: sniff sees only bytes.
    assert sniff(b"holiday.jpg\nimage/jpeg\n" + files.text_file()) is None


def test_matroska_that_is_not_webm_is_refused() -> None:
    mkv = files.video(container="matroska", codec="libvpx-vp9")

    assert mkv[:4] == b"\x1a\x45\xdf\xa3"  # the same EBML container as WebM
    assert sniff(mkv[:SNIFF_BYTES]) is None


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    payload = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(payload)) + b"ftyp" + payload + b"\x00\x00\x00\x08free"


@pytest.mark.parametrize(
    ("major", "compatible", "expected"),
    [
        # iPhone photos
        (b"heic", (b"mif1", b"heic"), "image/heic"),
        (b"heix", (b"mif1", b"heix"), "image/heic"),
        # plain HEIF: the compatible brands say which codec
        (b"mif1", (b"mif1", b"heic", b"miaf"), "image/heic"),
        (b"msf1", (b"msf1", b"hevc"), "image/heic"),
        (b"mif1", (b"mif1", b"avif", b"miaf"), "image/avif"),
        (b"avif", (b"avif", b"mif1", b"miaf", b"MA1B"), "image/avif"),
        (b"avis", (b"avis", b"msf1", b"miaf"), "image/avif"),
        (b"qt  ", (b"qt  ",), "video/quicktime"),
        (b"isom", (b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4"),
        (b"iso2", (b"iso2",), "video/mp4"),
        (b"mp41", (b"mp41",), "video/mp4"),
        (b"mp42", (b"mp42", b"isom"), "video/mp4"),
        (b"avc1", (b"avc1", b"isom"), "video/mp4"),
        (b"dash", (b"iso6", b"mp41"), "video/mp4"),
        (b"M4V ", (b"M4V ", b"M4A ", b"mp42", b"isom"), "video/mp4"),
        # a camera's own brand first: the compatible ones decide
        (b"XAVC", (b"XAVC", b"mp42", b"iso2"), "video/mp4"),
        (b"XXXX", (b"mif1", b"heic"), "image/heic"),
        # MP4-based, but no picture or video of ours
        (b"M4A ", (b"M4A ", b"mp42", b"isom"), None),
        (b"crx ", (b"crx ", b"isom"), None),
        (b"XXXX", (b"YYYY",), None),
    ],
)
def test_iso_media_files_are_told_apart_by_brand(
    major: bytes, compatible: tuple[bytes, ...], expected: str | None
) -> None:
    by_brands = format_for_brands(major, compatible)
    by_bytes = sniff(ftyp(major, *compatible))

    assert (by_brands.content_type if by_brands else None) == expected
    assert (by_bytes.content_type if by_bytes else None) == expected


def test_the_major_brand_wins_over_compatible_ones() -> None:
    # An MP4 listing a HEIF brand among many is still a video, and a HEIC listing MP4 brands a picture.
    video = sniff(ftyp(b"mp42", b"mp42", b"mif1", b"heic", b"avif"))
    picture = sniff(ftyp(b"heic", b"mif1", b"heic", b"avif", b"isom", b"mp42"))

    assert video is not None and video.content_type == "video/mp4"
    assert picture is not None and picture.content_type == "image/heic"


def test_a_broken_ftyp_box_is_refused() -> None:
    assert sniff(struct.pack(">I", 12) + b"ftypisom" + bytes(8)) is None  # shorter than its own brands
    assert sniff(b"\x00\x00\x00\x18ftyp") is None  # cut before the major brand


def test_brands_past_the_bytes_read_are_not_needed() -> None:
    # A box declaring more brands than the caller read: the ones that were read decide.
    head = struct.pack(">I", 10_000) + b"ftyp" + b"mif1" + bytes(4) + b"mif1avif"
    sniffed = sniff(head)

    assert sniffed is not None and sniffed.content_type == "image/avif"
