"""media.images: an upload comes out upright, without metadata but its colour profile, in three sizes, with a
placeholder and a dominant colour; bombs, broken files and other formats are refused with a reason."""

from __future__ import annotations

import io
import os
import string
import warnings
from collections.abc import Callable

import blurhash
import pytest
from PIL import Image, ImageCms, ImageFile

from media.images import EncodedVariant, MediaRejected, ProcessedImage, process_image
from models.media import FailureReason, MediaVariant
from tests.media import files

PLENTY = 50_000_000
# The 83 characters of the blurhash alphabet, as the specification lists them.
BASE83 = string.digits + string.ascii_uppercase + string.ascii_lowercase + "#$%*+,-.:;=?@[]^_{|}~"


def decode(variant: EncodedVariant) -> Image.Image:
    image = Image.open(io.BytesIO(variant.data))
    image.load()
    return image


def by_name(processed: ProcessedImage) -> dict[MediaVariant, EncodedVariant]:
    return {v.variant: v for v in processed.variants}


def near(pixel: object, colour: tuple[int, int, int], tolerance: int = 24) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def hex_colour(colour: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in colour)


def from_hex(value: str) -> tuple[int, int, int]:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


# --- orientation and metadata -------------------------------------------------------------------------


def test_a_phone_photo_comes_out_upright() -> None:
    # Given 120x80 stored pixels (red top-left quarter) that Orientation 6 says to turn a quarter clockwise
    processed = process_image(files.gps_jpeg((120, 80)), max_pixels=PLENTY)

    assert (processed.width, processed.height) == (80, 120)
    for variant in processed.variants:
        picture = decode(variant).convert("RGB")
        assert picture.size == (80, 120) == (variant.width, variant.height)
        # the stored top-left corner now shows at the top right
        assert near(picture.getpixel((70, 10)), files.RED)
        assert near(picture.getpixel((10, 10)), files.BLUE)
        assert near(picture.getpixel((70, 110)), files.BLUE)


def test_no_variant_keeps_exif_gps_xmp_or_comments_but_each_keeps_the_colour_profile() -> None:
    upload = files.gps_jpeg()
    given = Image.open(io.BytesIO(upload))
    assert given.getexif().get_ifd(files.EXIF_GPS_IFD)  # the upload really does carry a location
    assert {"exif", "xmp", "comment", "icc_profile"} <= set(given.info)

    processed = process_image(upload, max_pixels=PLENTY)

    assert len(processed.variants) == 3
    for variant in processed.variants:
        picture = decode(variant)
        assert not picture.getexif()
        assert not picture.getexif().get_ifd(files.EXIF_GPS_IFD)
        assert not {"exif", "xmp", "comment"} & set(picture.info)
        assert b"Exif\x00\x00" not in variant.data
        assert b"http://ns.adobe.com/xap/1.0/" not in variant.data
        assert b"xpacket" not in variant.data
        assert b"SecretPhone" not in variant.data
        assert files.JPEG_COMMENT not in variant.data
        assert picture.info.get("icc_profile") == files.SRGB_ICC


def test_a_transparent_picture_keeps_its_profile_too() -> None:
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((*files.RED, 255), (0, 0, 20, 40))
    upload = files.encode(image, "PNG", icc_profile=files.SRGB_ICC)

    for variant in process_image(upload, max_pixels=PLENTY).variants:
        picture = decode(variant)
        assert picture.info.get("icc_profile") == files.SRGB_ICC
        assert not picture.getexif()


def test_a_profile_that_does_not_describe_rgb_pixels_is_not_attached() -> None:
    # A Lab profile on an RGB picture: attaching it to the RGB output would make viewers misread colours.
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    upload = files.encode(files.solid((30, 20), files.RED), "JPEG", icc_profile=lab)
    assert Image.open(io.BytesIO(upload)).info.get("icc_profile") == lab

    for variant in process_image(upload, max_pixels=PLENTY).variants:
        picture = decode(variant)
        assert "icc_profile" not in picture.info
        assert near(picture.convert("RGB").getpixel((15, 10)), files.RED)


# --- sizes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        # 2000 * 2560 / 3000 = 1706.67, 2000 * 400 / 3000 = 266.67: rounded to the nearest pixel
        ((3000, 2000), {"ORIGINAL": (2560, 1707), "FEED": (1080, 720), "THUMBNAIL": (400, 267)}),
        ((2000, 3000), {"ORIGINAL": (1707, 2560), "FEED": (720, 1080), "THUMBNAIL": (267, 400)}),
        # never enlarged
        ((300, 200), {"ORIGINAL": (300, 200), "FEED": (300, 200), "THUMBNAIL": (300, 200)}),
        ((1500, 1500), {"ORIGINAL": (1500, 1500), "FEED": (1080, 1080), "THUMBNAIL": (400, 400)}),
    ],
)
def test_variant_sizes(size: tuple[int, int], expected: dict[str, tuple[int, int]]) -> None:
    processed = process_image(files.encode(files.solid(size, files.RED), "PNG"), max_pixels=PLENTY)

    assert [v.variant for v in processed.variants] == [
        MediaVariant.THUMBNAIL,
        MediaVariant.FEED,
        MediaVariant.ORIGINAL,
    ]
    assert {v.variant.value: (v.width, v.height) for v in processed.variants} == expected
    assert {v.variant.value: decode(v).size for v in processed.variants} == expected
    assert (processed.width, processed.height) == expected["ORIGINAL"]


def test_opaque_pictures_become_progressive_jpegs() -> None:
    processed = process_image(files.encode(files.solid((50, 50), files.RED), "PNG"), max_pixels=PLENTY)

    for variant in processed.variants:
        picture = decode(variant)
        assert variant.content_type == "image/jpeg"
        assert picture.format == "JPEG" and picture.mode == "RGB"
        assert picture.info.get("progressive") or picture.info.get("progression")


# --- transparency and colour modes --------------------------------------------------------------------


def test_a_transparent_png_keeps_its_alpha_as_webp() -> None:
    processed = process_image(files.png_with_transparency((300, 200)), max_pixels=PLENTY)

    for variant in processed.variants:
        picture = decode(variant)
        assert variant.content_type == "image/webp"
        assert picture.format == "WEBP" and picture.mode == "RGBA"
        left = picture.getpixel((picture.width // 8, picture.height // 2))
        right = picture.getpixel((picture.width * 7 // 8, picture.height // 2))
        assert isinstance(left, tuple) and isinstance(right, tuple)
        assert left[3] == 255 and near(left, files.RED)
        assert right[3] == 0


def test_a_png_with_an_alpha_channel_but_no_transparent_pixel_is_a_jpeg() -> None:
    upload = files.encode(files.solid((40, 40), (*files.RED, 255), mode="RGBA"), "PNG")

    assert {v.content_type for v in process_image(upload, max_pixels=PLENTY).variants} == {"image/jpeg"}


def test_a_palette_png_with_a_transparent_colour_keeps_it() -> None:
    image = Image.new("P", (40, 40), 0)
    image.putpalette([*files.RED, *files.BLUE])
    image.paste(1, (20, 0, 40, 40))
    upload = files.encode(image, "PNG", transparency=1)

    picture = decode(process_image(upload, max_pixels=PLENTY).variants[0])

    assert picture.mode == "RGBA"
    left, right = picture.getpixel((5, 20)), picture.getpixel((35, 20))
    assert isinstance(left, tuple) and isinstance(right, tuple)
    assert left[3] == 255 and near(left, files.RED)
    assert right[3] == 0


def test_cmyk_becomes_rgb() -> None:
    upload = files.encode(files.solid((40, 40), (0, 255, 255, 0), mode="CMYK"), "JPEG")  # red in ink

    picture = decode(process_image(upload, max_pixels=PLENTY).variants[0])

    assert picture.mode == "RGB"
    assert near(picture.getpixel((20, 20)), files.RED)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    upload = files.encode(files.solid((40, 40), 0x8000, mode="I;16"), "PNG")  # mid grey in 16 bits
    assert Image.open(io.BytesIO(upload)).mode.startswith("I")

    picture = decode(process_image(upload, max_pixels=PLENTY).variants[0])

    assert picture.mode == "RGB"
    assert near(picture.getpixel((20, 20)), (128, 128, 128), tolerance=4)


def test_grey_with_alpha_becomes_rgba() -> None:
    image = Image.new("LA", (40, 40), (200, 0))
    image.paste((200, 255), (0, 0, 20, 40))

    picture = decode(process_image(files.encode(image, "PNG"), max_pixels=PLENTY).variants[0])

    assert picture.mode == "RGBA"
    assert near(picture.getpixel((5, 20)), (200, 200, 200), tolerance=6)


# --- other accepted formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [files.heic, files.avif], ids=["heic", "avif"])
def test_heic_and_avif_are_processed(make: Callable[..., bytes]) -> None:
    processed = process_image(make((96, 64), files.GREEN), max_pixels=PLENTY)

    assert (processed.width, processed.height) == (96, 64)
    assert near(from_hex(processed.dominant_color), files.GREEN)
    for variant in processed.variants:
        assert variant.content_type == "image/jpeg"
        assert near(decode(variant).getpixel((48, 32)), files.GREEN)


@pytest.mark.parametrize("make", [files.gif_two_frames, files.animated_webp], ids=["gif", "webp"])
def test_an_animation_gives_its_first_frame(make: Callable[..., bytes]) -> None:
    upload = make((60, 40))
    assert getattr(Image.open(io.BytesIO(upload)), "n_frames", 1) == 2

    processed = process_image(upload, max_pixels=PLENTY)

    assert processed.dominant_color == "#ff0000"  # the red first frame, not the blue second
    for variant in processed.variants:
        assert near(decode(variant).getpixel((30, 20)), files.RED)


# --- refusals -----------------------------------------------------------------------------------------


def refusal(data: bytes, max_pixels: int = PLENTY) -> FailureReason:
    with pytest.raises(MediaRejected) as caught:
        process_image(data, max_pixels=max_pixels)
    assert caught.value.message
    return caught.value.reason


def test_more_pixels_than_allowed_is_refused_and_the_limit_itself_is_allowed() -> None:
    upload = files.encode(files.solid((100, 100), files.RED), "PNG")

    assert refusal(upload, max_pixels=100 * 100 - 1) is FailureReason.TOO_MANY_PIXELS
    assert process_image(upload, max_pixels=100 * 100).width == 100


@pytest.mark.parametrize(
    ("width", "height", "max_pixels"),
    [
        # Pillow itself refuses this one at open (over twice its MAX_IMAGE_PIXELS)
        (30000, 30000, PLENTY),
        # Pillow only warns about this one; the warning must not let it through
        (12000, 12000, 10**9),
        # Pillow says nothing about this one: our own limit refuses it
        (8000, 8000, PLENTY),
    ],
)
def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded(
    width: int, height: int, max_pixels: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = files.png_bomb(width, height)
    assert len(bomb) < 1000
    # Its data holds one row: had the pixels been decoded, it would fail as CORRUPT (truncated) instead.
    with pytest.raises(OSError, match="truncated"):
        Image.open(io.BytesIO(files.png_bomb(20, 20))).load()
    decoded: list[object] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: decoded.append(image))

    assert refusal(bomb, max_pixels=max_pixels) is FailureReason.TOO_MANY_PIXELS
    assert decoded == []


def test_the_bomb_guard_leaves_pillow_and_the_warning_filters_as_they_were() -> None:
    limit = Image.MAX_IMAGE_PIXELS
    filters = list(warnings.filters)

    refusal(files.png_bomb(12000, 12000), max_pixels=10**9)
    process_image(files.encode(files.solid((10, 10), files.RED), "PNG"), max_pixels=PLENTY)

    assert limit == Image.MAX_IMAGE_PIXELS
    assert list(warnings.filters) == filters


@pytest.mark.parametrize(
    "data",
    [
        files.truncated_jpeg(),
        files.png_with_transparency()[:300],
        b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4,  # a JPEG signature, then nonsense
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        files.heic()[:250],
        files.avif()[:200],
    ],
    ids=[
        "truncated-jpeg",
        "truncated-png",
        "garbage-jpeg",
        "garbage-png",
        "truncated-heic",
        "truncated-avif",
    ],
)
def test_a_broken_picture_is_corrupt(data: bytes) -> None:
    assert refusal(data) is FailureReason.CORRUPT


@pytest.mark.parametrize(
    "data",
    [
        files.text_file(),
        files.pdf_file(),
        files.svg_file(),
        os.urandom(64).replace(b"\xff", b"\x00"),
        # formats Pillow could read but we do not accept, so never parse
        files.encode(files.solid((10, 10), files.RED), "TIFF"),
        files.encode(files.solid((10, 10), files.RED), "BMP"),
        files.video(),
    ],
    ids=["text", "pdf", "svg", "random", "tiff", "bmp", "mp4"],
)
def test_anything_but_an_accepted_picture_is_unsupported(data: bytes) -> None:
    assert refusal(data) is FailureReason.UNSUPPORTED_TYPE


# --- blurhash and dominant colour ---------------------------------------------------------------------


def test_the_blurhash_is_a_valid_4x3_hash_and_the_same_every_time() -> None:
    upload = files.gps_jpeg()

    first = process_image(upload, max_pixels=PLENTY).blurhash
    second = process_image(upload, max_pixels=PLENTY).blurhash

    assert first == second
    assert len(first) == 4 + 2 * 4 * 3
    assert set(first) <= set(BASE83)
    # the first character encodes (x components - 1) + (y components - 1) * 9
    assert BASE83.index(first[0]) == (4 - 1) + (3 - 1) * 9


def test_the_blurhash_paints_the_upright_picture() -> None:
    # The phone photo shows its red quarter at the top right once upright; the rest is blue.
    hashed = process_image(files.gps_jpeg((120, 80)), max_pixels=PLENTY).blurhash

    painted = blurhash.decode(hashed, 4, 6)

    top_right, bottom_left = painted[0][3], painted[5][0]
    assert top_right[0] > top_right[2]  # red
    assert bottom_left[2] > bottom_left[0]  # blue


def test_a_solid_picture_has_its_own_colour_as_dominant_and_in_the_blurhash() -> None:
    processed = process_image(files.encode(files.solid((200, 100), files.RED), "PNG"), max_pixels=PLENTY)

    assert processed.dominant_color == "#ff0000"
    average = blurhash.decode(processed.blurhash, 1, 1)[0][0]
    assert near(tuple(average), files.RED, tolerance=8)


def test_the_dominant_colour_is_the_most_common_not_the_mean() -> None:
    # Three quarters blue, one quarter red: the mean would be a purple no pixel has.
    image = files.solid((200, 200), files.BLUE)
    image.paste(files.RED, (0, 0, 100, 100))

    dominant = process_image(files.encode(image, "PNG"), max_pixels=PLENTY).dominant_color

    assert dominant == dominant.lower() and len(dominant) == 7
    assert near(from_hex(dominant), files.BLUE, tolerance=16)


def test_transparent_pixels_do_not_count_towards_the_dominant_colour() -> None:
    # One quarter opaque red; the rest transparent (stored as transparent black).
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    image.paste((*files.RED, 255), (0, 0, 100, 100))

    processed = process_image(files.encode(image, "PNG"), max_pixels=PLENTY)

    assert near(from_hex(processed.dominant_color), files.RED, tolerance=16)
    assert processed.dominant_color != hex_colour((0, 0, 0))
