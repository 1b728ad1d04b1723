"""A video's duration, size as displayed and poster frame, read with PyAV (FFmpeg's libraries in the wheel).

The uploaded file itself is kept as uploaded (no transcoding); only the poster is made, by the same pipeline
as pictures (`media.images.process_picture`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
from av.container import InputContainer
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from media.images import MediaRejected, ProcessedImage, process_picture
from models.media import FailureReason

# FFmpeg's demuxers for the accepted containers: "mov" reads MP4 and QuickTime, "matroska" reads WebM.
# Anything else FFmpeg would happily open (a PNG, an HLS playlist pointing at other files …) is refused.
DEMUXERS = "mov,matroska"
OPEN_OPTIONS = {"format_whitelist": DEMUXERS, "protocol_whitelist": "file"}
POSTER_SECONDS = 1.0
_QUARTER_TURNS = {1: Image.Transpose.ROTATE_90, 2: Image.Transpose.ROTATE_180, 3: Image.Transpose.ROTATE_270}


@dataclass(frozen=True)
class ProbedVideo:
    """`width` and `height` as displayed (rotation and non-square pixels applied); `poster` is made from the
    frame shown at about 1 s."""

    width: int
    height: int
    duration_seconds: float
    poster: ProcessedImage


def probe_video(path: str, *, max_seconds: float, max_pixels: int) -> ProbedVideo:
    """Synchronous. Duration over max_seconds -> MediaRejected(TOO_LONG); no video stream or undecodable ->
    CORRUPT; more than max_pixels per frame -> TOO_MANY_PIXELS.

    The duration is the longer of what the header declares and what the packets really span, so a file
    without a declared duration (a browser's MediaRecorder WebM) or one that lies is still measured. The
    poster is the first frame at least 1 s in, or the first frame of a shorter video.
    """
    try:
        # Tags in a broken encoding are no reason to refuse a video (PyAV decodes them strictly by default).
        with av.open(path, container_options=OPEN_OPTIONS, metadata_errors="replace") as container:
            stream = _video_stream(container)
            width, height = stream.codec_context.width, stream.codec_context.height
            if width <= 0 or height <= 0:
                raise MediaRejected(FailureReason.CORRUPT, "the video stream has no size")
            if width * height > max_pixels:
                raise MediaRejected(
                    FailureReason.TOO_MANY_PIXELS, f"{width}x{height} is more than {max_pixels} pixels"
                )
            declared = _declared_seconds(container, stream)
            _check_length(declared, max_seconds)
            poster_frame, spanned = _scan(container, stream)
            _check_length(spanned, max_seconds)
            # Everything read from FFmpeg is read before the container closes and frees it.
            rotation = poster_frame.rotation
            shown = displayed_size(
                width, height, rotation=rotation, sample_aspect_ratio=stream.sample_aspect_ratio
            )
            picture = upright_frame(poster_frame.to_image(), rotation=rotation)
    except (FileNotFoundError, PermissionError):
        # Our storage's trouble, not the upload's: the caller retries.
        raise
    except av.FFmpegError as exc:
        raise MediaRejected(FailureReason.CORRUPT, f"the video could not be decoded: {exc}") from exc
    if picture.size != shown:
        picture = picture.resize(shown, Image.Resampling.LANCZOS)
    return ProbedVideo(
        width=shown[0],
        height=shown[1],
        duration_seconds=max(declared or 0.0, spanned),
        poster=process_picture(picture),
    )


def displayed_size(
    width: int, height: int, *, rotation: float, sample_aspect_ratio: Fraction | None = None
) -> tuple[int, int]:
    """The size a player shows: non-square pixels widened (or narrowed) to square ones, then a quarter
    turn either way swaps the sides."""
    if sample_aspect_ratio and sample_aspect_ratio != 1:
        width = max(1, round(width * sample_aspect_ratio))
    if _quarter_turns(rotation) % 2:
        return height, width
    return width, height


def upright_frame(picture: Image.Image, *, rotation: float) -> Image.Image:
    """The frame as displayed. `rotation` is FFmpeg's display-matrix angle (`VideoFrame.rotation`),
    counter-clockwise: a portrait phone video is stored landscape with -90, a quarter turn clockwise."""
    turn = _QUARTER_TURNS.get(_quarter_turns(rotation))
    return picture.transpose(turn) if turn is not None else picture


def _quarter_turns(rotation: float) -> int:
    # Display matrices hold only quarter turns in practice; anything in between is snapped to the nearest.
    return round(rotation / 90) % 4


def _video_stream(container: InputContainer) -> VideoStream:
    # An MP4's cover art is a one-picture "video" stream: it is no video.
    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic:
            return stream
    raise MediaRejected(FailureReason.CORRUPT, "the file has no video stream")


def _declared_seconds(container: InputContainer, stream: VideoStream) -> float | None:
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return None


def _check_length(seconds: float | None, max_seconds: float) -> None:
    if seconds is not None and seconds > max_seconds:
        raise MediaRejected(FailureReason.TOO_LONG, f"{seconds:.1f} s is longer than {max_seconds:g} s")


def _scan(container: InputContainer, stream: VideoStream) -> tuple[VideoFrame, float]:
    """One pass over the video packets: the poster frame (decoding stops once it is found) and the time
    the packets span (demuxing only, which is cheap, to the end)."""
    first: VideoFrame | None = None
    poster: VideoFrame | None = None
    start: float | None = None
    end = 0.0
    # WebM blocks often carry no duration of their own: the last one then lasts one frame interval.
    rate = stream.average_rate or stream.guessed_rate
    frame_seconds = float(1 / rate) if rate else 0.0
    for packet in container.demux(stream):
        if packet.pts is not None and packet.time_base is not None:
            packet_start = float(packet.pts * packet.time_base)
            lasts = float(packet.duration * packet.time_base) if packet.duration else frame_seconds
            start = packet_start if start is None else min(start, packet_start)
            end = max(end, packet_start + lasts)
        if poster is None:
            # The empty packet at the end of the stream flushes the frames the decoder still holds.
            for frame in stream.decode(packet):
                if first is None:
                    first = frame
                if frame.time is not None and start is not None and frame.time - start >= POSTER_SECONDS:
                    poster = frame
                    break
    poster = poster or first
    if poster is None:
        raise MediaRejected(FailureReason.CORRUPT, "no frame of the video could be decoded")
    return poster, end - (start or 0.0)
