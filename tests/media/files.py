"""Test inputs for the media tests, made in memory: pictures and videos in every accepted format, and the
broken or hostile files uploads must survive. No binary fixture is committed."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence
from fractions import Fraction

import av
import pillow_heif
from PIL import Image, ImageCms

pillow_heif.register_heif_opener()

RED = (255, 0, 0)
GREEN = (0, 160, 0)
BLUE = (0, 0, 255)
SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
EXIF_ORIENTATION = 0x0112
EXIF_GPS_IFD = 0x8825
EXIF_MAKE = 0x010F
XMP_PACKET = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="SecretPhone"/>'
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
JPEG_COMMENT = b"taken at home, 12 Secret Street"
VIDEO_CODEC = "mpeg4"


def encode(image: Image.Image, format: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **params)
    return out.getvalue()


def solid(size: tuple[int, int], colour: int | tuple[int, ...], mode: str = "RGB") -> Image.Image:
    return Image.new(mode, size, colour)


def marked(
    size: tuple[int, int], *, mark: tuple[int, int, int] = RED, rest: tuple[int, int, int] = BLUE
) -> Image.Image:
    """`rest` everywhere but the top-left quarter, which is `mark`: where the mark ends up shows how the
    picture was turned."""
    image = Image.new("RGB", size, rest)
    image.paste(mark, (0, 0, size[0] // 2, size[1] // 2))
    return image


def gps_jpeg(size: tuple[int, int] = (120, 80)) -> bytes:
    """A JPEG as a phone writes it held upright: the pixels stored sideways with Orientation 6 (turn a
    quarter clockwise to display), GPS coordinates, a camera make, XMP, a comment and an sRGB ICC profile.
    The stored top-left quarter is red."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    exif[EXIF_MAKE] = "SecretPhone"
    gps = exif.get_ifd(EXIF_GPS_IFD)
    gps.update(
        {
            1: "N",  # GPSLatitudeRef
            2: (Fraction(48), Fraction(51), Fraction(2946, 100)),  # GPSLatitude
            3: "E",  # GPSLongitudeRef
            4: (Fraction(2), Fraction(17), Fraction(402, 10)),  # GPSLongitude
        }
    )
    return encode(
        marked(size),
        "JPEG",
        quality=95,
        exif=exif,
        icc_profile=SRGB_ICC,
        xmp=XMP_PACKET,
        comment=JPEG_COMMENT,
    )


def png_with_transparency(size: tuple[int, int] = (300, 200)) -> bytes:
    """Opaque red on the left half, fully transparent on the right."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste((*RED, 255), (0, 0, size[0] // 2, size[1]))
    return encode(image, "PNG")


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A few hundred bytes declaring width x height 8-bit grey pixels. The compressed data holds one row
    and stops mid-stream, so anything that tried to decode the pixels would fail on truncation rather than
    refuse the size."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    # A zlib stream left open (sync-flushed, never finished): a decoder reaching its end wants more data.
    compressor = zlib.compressobj()
    one_row = compressor.compress(b"\x00" * (width + 1)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", one_row) + chunk(b"IEND", b"")


def heic(size: tuple[int, int] = (96, 64), colour: tuple[int, int, int] = GREEN) -> bytes:
    return encode(solid(size, colour), "HEIF", quality=90)


def avif(size: tuple[int, int] = (96, 64), colour: tuple[int, int, int] = GREEN) -> bytes:
    return encode(solid(size, colour), "AVIF", quality=90)


def gif_two_frames(size: tuple[int, int] = (60, 40)) -> bytes:
    """A red first frame, then a blue one."""
    first, second = solid(size, RED), solid(size, BLUE)
    return encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)


def animated_webp(size: tuple[int, int] = (60, 40)) -> bytes:
    """A red first frame, then a blue one."""
    first, second = solid(size, RED), solid(size, BLUE)
    return encode(first, "WEBP", save_all=True, append_images=[second], duration=100, lossless=True)


def truncated_jpeg() -> bytes:
    noisy = Image.effect_noise((200, 200), 64).convert("RGB")
    whole = encode(noisy, "JPEG", quality=90)
    return whole[: len(whole) // 2]


def text_file() -> bytes:
    return b"Just some notes, not a picture.\n"


def pdf_file() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def svg_file() -> bytes:
    return b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'


def zip_file() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return out.getvalue()


def video(
    *,
    seconds: float = 2.0,
    fps: int = 10,
    size: tuple[int, int] = (96, 64),
    container: str = "mp4",
    codec: str = VIDEO_CODEC,
    frames: Sequence[Image.Image] | None = None,
    options: dict[str, str] | None = None,
) -> bytes:
    """A small video: `frames` if given, else `seconds` of marked frames (red top-left quarter on blue)."""
    pictures = list(frames) if frames is not None else [marked(size)] * round(seconds * fps)
    out = io.BytesIO()
    with av.open(out, "w", format=container, options=options or {}) as output:
        stream = output.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = pictures[0].size
        stream.pix_fmt = "yuv420p"
        for picture in pictures:
            for packet in stream.encode(av.VideoFrame.from_image(picture)):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return out.getvalue()


# The track matrix an iPhone writes for a video held upright: the sensor's landscape pixels turned a
# quarter clockwise. QuickTime maps (x, y) to (a·x + c·y + tx, b·x + d·y + ty); here (H - y, x), so the
# stored top-left corner shows at the top right. Fixed-point 16.16, except w (2.30).
PORTRAIT_MATRIX = (0, 0x10000, 0, -0x10000, 0, 0, None, 0, 0x40000000)


def turned_like_a_phone(mp4: bytes) -> bytes:
    """`mp4` with its video track's tkhd matrix replaced by the one a phone held upright writes."""
    at = mp4.index(b"tkhd") + 4
    version = mp4[at]
    assert version == 0, "the helper only knows version-0 tkhd boxes"
    # version/flags, creation, modification, track id, reserved, duration, 8 reserved, layer, group,
    # volume, reserved: then the matrix, then the display width and height (16.16).
    matrix_at = at + 4 + 4 * 5 + 8 + 2 * 4
    (width_fixed, height_fixed) = struct.unpack(">II", mp4[matrix_at + 36 : matrix_at + 44])
    height = height_fixed >> 16
    matrix = tuple(height << 16 if value is None else value for value in PORTRAIT_MATRIX)
    assert width_fixed >> 16 > 0
    return mp4[:matrix_at] + struct.pack(">9i", *matrix) + mp4[matrix_at + 36 :]


def as_a_browser_records(webm: bytes) -> bytes:
    """`webm` (muxed with the "live" option, so without a Duration) also without its track's DefaultDuration,
    as a browser's MediaRecorder writes: nothing says how long the last frame lasts."""
    at = webm.index(b"\x23\xe3\x83")  # the DefaultDuration element id
    length = 4 + (webm[at + 3] & 0x7F)  # 3-byte id, 1-byte size, then the value
    # Overwritten in place by a Void element of the same length, so no enclosing size changes.
    void = b"\xec" + bytes([0x80 | (length - 2)]) + bytes(length - 2)
    return webm[:at] + void + webm[at + length :]
