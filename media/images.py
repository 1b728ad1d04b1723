"""An uploaded picture made into the files clients show: upright, every piece of metadata removed but the
colour profile, in three sizes, with a blurhash placeholder and a dominant colour."""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import cast

import blurhash
import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from media.sniff import SNIFF_BYTES, sniff
from models.media import FailureReason, MediaKind, MediaVariant

pillow_heif.register_heif_opener()

VARIANT_SIDES: dict[MediaVariant, int] = {
    MediaVariant.THUMBNAIL: 400,
    MediaVariant.FEED: 1080,
    MediaVariant.ORIGINAL: 2560,
}
# Largest first: each variant is resized from the one before it, which is cheaper than from the full picture.
VARIANT_ORDER = (MediaVariant.ORIGINAL, MediaVariant.FEED, MediaVariant.THUMBNAIL)
# Pillow's names for the accepted formats (its JPEG opener also reads MPO, the JPEG many cameras write).
# Nothing else is even parsed: Pillow's other plugins (EPS, PSD, TIFF …) are attack surface we do not need.
DECODABLE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "HEIF", "AVIF")
JPEG_QUALITY = 85
WEBP_QUALITY = 85
BLURHASH_COMPONENTS = (4, 3)
SUMMARY_SIDE = 64
DOMINANT_PALETTE_SIZE = 8

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# warnings.catch_warnings swaps the process-wide filter list: two threads doing it at once could each
# restore the other's filters, so opening is done one thread at a time (it only reads the header).
_OPEN_LOCK = threading.Lock()


class MediaRejected(Exception):
    """The upload cannot be made into media, for a reason clients are told."""

    def __init__(self, reason: FailureReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class EncodedVariant:
    """One size of a picture: a JPEG when it is opaque, a WebP when it has transparency."""

    variant: MediaVariant
    width: int
    height: int
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ProcessedImage:
    """A picture ready to show. `width` and `height` are the ORIGINAL variant's (upright); `blurhash` has 4x3
    components, computed on a copy at most 64 px a side; `dominant_color` ("#rrggbb") is the most common
    colour of that copy (see `_dominant_color`); `variants` are THUMBNAIL, FEED, ORIGINAL in that order."""

    width: int
    height: int
    blurhash: str
    dominant_color: str
    variants: tuple[EncodedVariant, ...]


def process_image(data: bytes, *, max_pixels: int) -> ProcessedImage:
    """Decode an uploaded picture and make its variants. Synchronous and CPU-bound: run it in a thread.

    The declared size is checked against `max_pixels` before any pixel is decoded (and Pillow's own
    decompression-bomb limit, `Image.MAX_IMAGE_PIXELS`, applies on top). An animated GIF or WebP gives its
    first frame only.
    """
    image = _open(data)
    width, height = image.size
    if width * height > max_pixels:
        raise MediaRejected(
            FailureReason.TOO_MANY_PIXELS, f"{width}x{height} is more than {max_pixels} pixels"
        )
    try:
        # libjpeg can decode at 1/2, 1/4 or 1/8 scale for free; the draft keeps both sides at least as
        # long as the largest variant, so nothing is lost.
        cap = VARIANT_SIDES[MediaVariant.ORIGINAL]
        image.draft(image.mode, (cap, cap))
        image.load()
        icc_profile = image.info.get("icc_profile") or None
        picture, icc_profile = _plain_colours(_upright(image), icc_profile)
    except MediaRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise MediaRejected(FailureReason.TOO_MANY_PIXELS, str(exc)) from exc
    except Exception as exc:
        # Decoders of untrusted bytes fail in many ways (OSError for truncation, ValueError, EOFError,
        # struct.error …): all of them mean the file is broken.
        raise MediaRejected(FailureReason.CORRUPT, f"the picture could not be decoded: {exc}") from exc
    return process_picture(picture, icc_profile=icc_profile)


def process_picture(picture: Image.Image, *, icc_profile: bytes | None = None) -> ProcessedImage:
    """Make the variants, blurhash and dominant colour of a decoded, upright RGB or RGBA picture (a
    video's poster frame is handed over this way)."""
    sizes = {variant: _fit_within(picture.size, VARIANT_SIDES[variant]) for variant in VARIANT_ORDER}
    encoded: dict[MediaVariant, EncodedVariant] = {}
    current = picture
    for variant in VARIANT_ORDER:
        if current.size != sizes[variant]:
            current = current.resize(sizes[variant], Image.Resampling.LANCZOS)
        content_type, payload = _encode(current, icc_profile)
        encoded[variant] = EncodedVariant(variant, current.width, current.height, content_type, payload)
    summary = current.copy()
    summary.thumbnail((SUMMARY_SIDE, SUMMARY_SIDE), Image.Resampling.LANCZOS)
    original = encoded[MediaVariant.ORIGINAL]
    return ProcessedImage(
        width=original.width,
        height=original.height,
        blurhash=_blurhash(summary),
        dominant_color=_dominant_color(summary),
        variants=tuple(
            encoded[v] for v in (MediaVariant.THUMBNAIL, MediaVariant.FEED, MediaVariant.ORIGINAL)
        ),
    )


def _fit_within(size: tuple[int, int], longest_side: int) -> tuple[int, int]:
    """`size` scaled down so its longest side is `longest_side`, the other rounded half up; never enlarged."""
    width, height = size
    longest = max(width, height)
    if longest <= longest_side:
        return size
    # Integer arithmetic: the same picture always gets the same size, whatever the float rounding.
    return (
        max(1, (2 * width * longest_side + longest) // (2 * longest)),
        max(1, (2 * height * longest_side + longest) // (2 * longest)),
    )


def _open(data: bytes) -> ImageFile.ImageFile:
    try:
        with _OPEN_LOCK, warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; a warning is not a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(BytesIO(data), formats=DECODABLE_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaRejected(FailureReason.TOO_MANY_PIXELS, str(exc)) from exc
    except UnidentifiedImageError as exc:
        # Pillow gives up the same way on a broken PNG as on a text file; the signature tells them apart.
        sniffed = sniff(data[:SNIFF_BYTES])
        if sniffed is not None and sniffed.kind is MediaKind.IMAGE:
            raise MediaRejected(FailureReason.CORRUPT, f"a broken {sniffed.extension} picture") from exc
        raise MediaRejected(FailureReason.UNSUPPORTED_TYPE, "not a picture in an accepted format") from exc
    except Exception as exc:
        raise MediaRejected(FailureReason.CORRUPT, f"the picture could not be read: {exc}") from exc


def _upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        # An EXIF block too broken to read says nothing reliable about orientation: show the picture
        # as stored rather than refuse it.
        return image.copy()


def _plain_colours(image: Image.Image, icc_profile: bytes | None) -> tuple[Image.Image, bytes | None]:
    """The picture as 8-bit RGB, or RGBA when some pixel is not fully opaque, with the ICC profile that
    still describes it: an RGB profile is kept; a CMYK or grey one is applied (to sRGB) and dropped."""
    profile = _read_profile(icc_profile)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # Plain conversion clips 16-bit samples to 255; scale them instead.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    alpha = image.convert("RGBA").getchannel("A") if has_alpha else None
    if alpha is not None and alpha.getextrema()[0] == 255:
        alpha = None
    if profile is not None and profile.profile.xcolor_space.strip() != "RGB":
        colour = _to_srgb(image, profile)
        icc_profile = None
    else:
        colour = image.convert("RGB")
        icc_profile = icc_profile if profile is not None else None
    if alpha is not None:
        colour.putalpha(alpha)
    return colour, icc_profile


def _read_profile(icc_profile: bytes | None) -> ImageCms.ImageCmsProfile | None:
    if not icc_profile:
        return None
    try:
        return ImageCms.ImageCmsProfile(BytesIO(icc_profile))
    except Exception:
        # A profile lcms cannot read would only confuse the viewers that try: the picture goes out untagged.
        return None


def _to_srgb(image: Image.Image, profile: ImageCms.ImageCmsProfile) -> Image.Image:
    source_mode = {"CMYK": "CMYK", "LA": "L", "La": "L", "1": "L"}.get(image.mode, image.mode)
    try:
        source = image.convert(source_mode) if source_mode != image.mode else image
        converted = ImageCms.profileToProfile(source, profile, _SRGB, outputMode="RGB")
    except Exception:
        # The profile does not fit the pixels (a CMYK profile on an RGB picture): convert plainly.
        return image.convert("RGB")
    assert converted is not None  # profileToProfile returns None only when asked to work in place
    return converted


def _encode(picture: Image.Image, icc_profile: bytes | None) -> tuple[str, bytes]:
    # Resizing and converting copy `info` (comments, XMP, EXIF …) along, and the JPEG writer emits a
    # comment from it unasked: the written picture carries pixels and the colour profile only.
    picture.info = {}
    out = BytesIO()
    if picture.mode == "RGBA":
        picture.save(out, "WEBP", quality=WEBP_QUALITY, icc_profile=icc_profile)
        return "image/webp", out.getvalue()
    picture.save(out, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True, icc_profile=icc_profile)
    return "image/jpeg", out.getvalue()


def _blurhash(summary: Image.Image) -> str:
    # Transparent parts are shown over white: the placeholder matches a picture on a light background.
    opaque = _on_white(summary)
    pixels = cast("tuple[tuple[int, int, int], ...]", opaque.get_flattened_data())
    rows = [pixels[y * opaque.width : (y + 1) * opaque.width] for y in range(opaque.height)]
    return str(blurhash.encode(rows, *BLURHASH_COMPONENTS))


def _dominant_color(summary: Image.Image) -> str:
    """The most common colour of a median-cut quantization to 8 colours (each palette colour is the mean of
    its box), counting only pixels at least half opaque. Deterministic; a solid colour gives itself."""
    pixels = cast("tuple[tuple[int, int, int, int], ...]", summary.convert("RGBA").get_flattened_data())
    visible = [(r, g, b) for r, g, b, a in pixels if a >= 128] or [(r, g, b) for r, g, b, _ in pixels]
    strip = Image.new("RGB", (len(visible), 1))
    strip.putdata(visible)
    quantized = strip.quantize(colors=DOMINANT_PALETTE_SIZE, method=Image.Quantize.MEDIANCUT)
    counts = quantized.histogram()
    # max() keeps the first of equal counts: ties go to the lowest palette index.
    index = max(range(len(counts)), key=counts.__getitem__)
    red, green, blue = (quantized.getpalette() or [])[3 * index : 3 * index + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


def _on_white(picture: Image.Image) -> Image.Image:
    if picture.mode != "RGBA":
        return picture.convert("RGB")
    background = Image.new("RGBA", picture.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, picture).convert("RGB")
