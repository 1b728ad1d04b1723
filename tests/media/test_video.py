"""media.video: a video's duration, size as displayed and poster, or a reason to refuse it."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from media.images import MediaRejected, ProcessedImage
from media.video import ProbedVideo, displayed_size, probe_video, upright_frame
from models.media import FailureReason, MediaVariant
from tests.media import files

PLENTY = 50_000_000


def near(pixel: object, colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def from_hex(value: str) -> tuple[int, int, int]:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def saved(tmp_path: Path, data: bytes, name: str = "upload.bin") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def probe(tmp_path: Path, data: bytes, *, max_seconds: float = 60.0, max_pixels: int = PLENTY) -> ProbedVideo:
    return probe_video(saved(tmp_path, data), max_seconds=max_seconds, max_pixels=max_pixels)


def poster_picture(probed: ProbedVideo) -> Image.Image:
    original = next(v for v in probed.poster.variants if v.variant is MediaVariant.ORIGINAL)
    return Image.open(io.BytesIO(original.data)).convert("RGB")


def refusal(
    tmp_path: Path, data: bytes, *, max_seconds: float = 60.0, max_pixels: int = PLENTY
) -> FailureReason:
    with pytest.raises(MediaRejected) as caught:
        probe(tmp_path, data, max_seconds=max_seconds, max_pixels=max_pixels)
    assert caught.value.message
    return caught.value.reason


@pytest.mark.parametrize(
    ("container", "codec"),
    [("mp4", files.VIDEO_CODEC), ("mp4", "libx264"), ("mov", files.VIDEO_CODEC), ("webm", "libvpx-vp9")],
)
def test_duration_size_and_poster_of_a_video(tmp_path: Path, container: str, codec: str) -> None:
    upload = files.video(seconds=2.0, fps=10, size=(96, 64), container=container, codec=codec)

    probed = probe(tmp_path, upload)

    assert (probed.width, probed.height) == (96, 64)
    assert probed.duration_seconds == pytest.approx(2.0, abs=0.05)
    assert isinstance(probed.poster, ProcessedImage)
    assert (probed.poster.width, probed.poster.height) == (96, 64)
    assert [v.variant for v in probed.poster.variants] == [
        MediaVariant.THUMBNAIL,
        MediaVariant.FEED,
        MediaVariant.ORIGINAL,
    ]
    picture = poster_picture(probed)
    assert picture.size == (96, 64)
    assert near(picture.getpixel((10, 10)), files.RED)
    assert near(picture.getpixel((86, 54)), files.BLUE)


def test_a_webm_that_declares_no_duration_is_measured(tmp_path: Path) -> None:
    # As a browser's MediaRecorder writes it: no Duration, and no frame duration either.
    upload = files.as_a_browser_records(
        files.video(seconds=2.0, fps=10, container="webm", codec="libvpx-vp9", options={"live": "1"})
    )
    with av.open(io.BytesIO(upload), "r") as given:
        assert given.duration is None
        assert not any(packet.duration for packet in given.demux(video=0))

    assert probe(tmp_path, upload).duration_seconds == pytest.approx(2.0, abs=0.05)
    assert refusal(tmp_path, upload, max_seconds=1.5) is FailureReason.TOO_LONG


def test_the_poster_is_the_frame_one_second_in(tmp_path: Path) -> None:
    size = (64, 48)
    frames = [files.solid(size, files.RED)] * 10 + [files.solid(size, files.BLUE)] * 20  # 10 fps

    probed = probe(tmp_path, files.video(frames=frames, fps=10))

    assert near(from_hex(probed.poster.dominant_color), files.BLUE)


def test_the_poster_of_a_video_shorter_than_a_second_is_its_first_frame(tmp_path: Path) -> None:
    size = (64, 48)
    frames = [files.solid(size, files.GREEN)] + [files.solid(size, files.RED)] * 4  # half a second

    probed = probe(tmp_path, files.video(frames=frames, fps=10))

    assert probed.duration_seconds == pytest.approx(0.5, abs=0.05)
    assert near(from_hex(probed.poster.dominant_color), files.GREEN)


def test_a_portrait_phone_video_is_taller_than_wide(tmp_path: Path) -> None:
    # Stored 96x64 (landscape sensor) with the track matrix a phone held upright writes.
    upload = files.turned_like_a_phone(files.video(size=(96, 64)))

    probed = probe(tmp_path, upload)

    assert (probed.width, probed.height) == (64, 96)
    assert (probed.poster.width, probed.poster.height) == (64, 96)
    picture = poster_picture(probed)
    assert picture.size == (64, 96)
    # the stored top-left (red) quarter shows at the top right
    assert near(picture.getpixel((54, 10)), files.RED)
    assert near(picture.getpixel((10, 10)), files.BLUE)
    assert near(picture.getpixel((54, 86)), files.BLUE)


def test_a_video_longer_than_allowed_is_refused(tmp_path: Path) -> None:
    upload = files.video(seconds=3.0)

    assert refusal(tmp_path, upload, max_seconds=2.5) is FailureReason.TOO_LONG
    assert probe(tmp_path, upload, max_seconds=3.0).duration_seconds == pytest.approx(3.0, abs=0.05)


def test_a_video_with_more_pixels_than_allowed_is_refused(tmp_path: Path) -> None:
    upload = files.video(size=(96, 64))

    assert refusal(tmp_path, upload, max_pixels=96 * 64 - 1) is FailureReason.TOO_MANY_PIXELS
    assert probe(tmp_path, upload, max_pixels=96 * 64).width == 96


@pytest.mark.parametrize(
    "data",
    [
        files.text_file(),
        files.encode(files.solid((32, 32), files.RED), "PNG"),  # FFmpeg would read it as a one-frame video
        files.gps_jpeg(),
        files.video()[:600],  # cut before the index
        b"#EXTM3U\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",  # a playlist pulling in other files
        b"",
    ],
    ids=["text", "png", "jpeg", "truncated-mp4", "hls-playlist", "empty"],
)
def test_anything_but_a_video_is_corrupt(tmp_path: Path, data: bytes) -> None:
    assert refusal(tmp_path, data) is FailureReason.CORRUPT


def test_a_sound_file_without_pictures_is_corrupt(tmp_path: Path) -> None:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as output:
        stream = output.add_stream("aac", rate=8000)
        frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = 8000
        for index in range(8):
            frame.pts = index * 1024
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)

    assert refusal(tmp_path, out.getvalue()) is FailureReason.CORRUPT


def test_a_missing_file_is_not_blamed_on_the_upload(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        probe_video(str(tmp_path / "gone.mp4"), max_seconds=60, max_pixels=PLENTY)


# --- the rotation rules on their own ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rotation", "sample_aspect_ratio", "expected"),
    [
        (0, None, (1920, 1080)),
        (-90, None, (1080, 1920)),
        (90, None, (1080, 1920)),
        (180, None, (1920, 1080)),
        (-180, None, (1920, 1080)),
        (270, None, (1080, 1920)),
        (0, Fraction(4, 3), (2560, 1080)),  # anamorphic: stored narrow, shown wide
        (-90, Fraction(4, 3), (1080, 2560)),
        (0, Fraction(0, 1), (1920, 1080)),  # unknown
    ],
)
def test_displayed_size(
    rotation: int, sample_aspect_ratio: Fraction | None, expected: tuple[int, int]
) -> None:
    assert displayed_size(1920, 1080, rotation=rotation, sample_aspect_ratio=sample_aspect_ratio) == expected


@pytest.mark.parametrize(
    ("rotation", "red_corner"),
    [
        (0, "top-left"),
        # FFmpeg's angle is counter-clockwise: -90 is a quarter turn clockwise
        (-90, "top-right"),
        (90, "bottom-left"),
        (180, "bottom-right"),
    ],
)
def test_upright_frame_turns_the_stored_pixels(rotation: int, red_corner: str) -> None:
    turned = upright_frame(files.marked((40, 20)), rotation=rotation)

    corners = {
        "top-left": (1, 1),
        "top-right": (turned.width - 2, 1),
        "bottom-left": (1, turned.height - 2),
        "bottom-right": (turned.width - 2, turned.height - 2),
    }
    assert turned.size == ((40, 20) if rotation in (0, 180) else (20, 40))
    assert {name for name, xy in corners.items() if turned.getpixel(xy) == files.RED} == {red_corner}
