"""The demo's pictures, drawn with Pillow: a note's photos, a person's avatar, a product's shots.

Each picture is a function of its `PictureSpec` alone (the spec's `identity` seeds its randomness), so the
same seed draws the same pixels. A picture is a gradient and shapes in its category's colours with a
caption: the note's title or the product's name, in Chinese and English when the machine has a CJK font
(Noto CJK, Source Han, WenQuanYi, Droid Sans Fallback), else in English with Pillow's own font.
"""

from __future__ import annotations

import math
import random
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from demo.content import CATEGORY_BY_KEY
from demo.world import NoteRow, ProductRow, UserRow

Colour = tuple[int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
PictureKind = Literal["note", "avatar", "product"]

# Small on purpose: a 60-person world has about 650 pictures, each drawn and processed at seed time (600×800
# costs 38 ms of CPU, 720×960 50 ms; blurhash's 23 ms whatever the size).
NOTE_SIZES: tuple[tuple[int, int], ...] = ((600, 800), (640, 640), (800, 600))
NOTE_SIZE_WEIGHTS = (70, 20, 10)  # portrait first, as notes are on the app
AVATAR_SIZE = (512, 512)
PRODUCT_SIZE = (1024, 1024)
# What the "camera" hands the upload pipeline: a good JPEG without metadata.
SOURCE_QUALITY = 92
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# File names of fonts with Chinese glyphs, best first.
CJK_FONTS = (
    "NotoSansCJK*-Regular.tt[cf]",
    "NotoSansCJK*.tt[cf]",
    "NotoSans*SC*-Regular.[ot]tf",
    "NotoSerifCJK*.tt[cf]",
    "SourceHanSans*.tt[cf]",
    "SourceHanSans*.otf",
    "wqy-microhei.tt[cf]",
    "wqy-zenhei.tt[cf]",
    "DroidSansFallbackFull.ttf",
    "DroidSansFallback.ttf",
)
# (gradient start, gradient end, accent) per category; the brand's vermilion otherwise.
PALETTES: dict[str, tuple[Colour, Colour, Colour]] = {
    "skincare": ((247, 217, 212), (251, 238, 230), (224, 122, 122)),
    "makeup": ((244, 182, 194), (253, 226, 228), (201, 24, 74)),
    "fashion": ((216, 226, 220), (255, 229, 217), (109, 89, 122)),
    "food": ((255, 209, 102), (255, 241, 208), (239, 71, 111)),
    "travel": ((142, 202, 230), (224, 251, 252), (33, 158, 188)),
    "home": ((233, 237, 201), (254, 250, 224), (169, 132, 103)),
    "fitness": ((184, 242, 230), (224, 247, 243), (42, 157, 143)),
    "pets": ((255, 232, 214), (255, 244, 230), (203, 153, 126)),
    "reading": ((226, 236, 233), (248, 244, 227), (107, 112, 92)),
    "tech": ((205, 180, 219), (231, 236, 239), (58, 12, 163)),
}
VERMILION: tuple[Colour, Colour, Colour] = ((227, 66, 52), (255, 183, 153), (140, 28, 19))
INK: Colour = (34, 34, 34)
# Product silhouettes by category.
SILHOUETTES = {
    "skincare": "bottle",
    "makeup": "bottle",
    "food": "jar",
    "pets": "jar",
    "reading": "book",
    "fashion": "bag",
    "travel": "bag",
}
_NO_LINE_START = frozenset("，。、！？：；）」』》…｜")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
# A CJK character, a word, or a run of spaces: the places a caption may wrap.
_TOKENS = re.compile(
    r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|\s+"
)


@dataclass(frozen=True)
class PictureSpec:
    """What one picture shows. `caption`/`label` are as written (Chinese, English or both); the `_latin`
    forms are what is shown without a CJK font ("" leaves the caption out)."""

    kind: PictureKind
    identity: str
    size: tuple[int, int]
    palette: tuple[Colour, Colour, Colour]
    caption: str
    caption_latin: str
    label: str = ""
    label_latin: str = ""
    badge: str = ""
    # Which of its thing's pictures this is (from 0), and what a product shot shows ("bottle", "jar" …).
    position: int = 0
    motif: str = ""


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def note_picture(note: NoteRow, position: int, count: int, *, seed: int) -> PictureSpec:
    """Picture `position` (from 0) of the `count` an IMAGE note shows; its first sets the shape of all."""
    rng = random.Random(f"vermilion-demo-picture:{seed}:note:{note.id}")
    size = rng.choices(NOTE_SIZES, weights=NOTE_SIZE_WEIGHTS)[0]
    category = CATEGORY_BY_KEY.get(note.category)
    label_en = category.label_en.capitalize() if category else ""
    label_zh = category.label_zh if category else ""
    return PictureSpec(
        kind="note",
        identity=f"{seed}:note:{note.id}:{position}",
        size=size,
        palette=PALETTES.get(note.category, VERMILION),
        caption=note.title,
        caption_latin="" if has_cjk(note.title) else note.title,
        label=f"{label_zh} · {label_en}" if label_zh else label_en,
        label_latin=label_en,
        badge=f"{position + 1}/{count}" if count > 1 else "",
        position=position,
    )


def avatar_picture(user: UserRow, *, seed: int) -> PictureSpec:
    """A person's avatar: their initial on their first interest's colours."""
    initial = _visible(user.display_name, cjk=True)[:1] or user.handle[:1]
    return PictureSpec(
        kind="avatar",
        identity=f"{seed}:avatar:{user.id}",
        size=AVATAR_SIZE,
        palette=PALETTES.get(user.categories[0] if user.categories else "", VERMILION),
        caption=initial.upper(),
        caption_latin=(user.handle[:1] if has_cjk(initial) else initial).upper(),
    )


def product_picture(product: ProductRow, position: int, *, seed: int) -> PictureSpec:
    """Shot `position` (from 0) of a product: its silhouette and both its names."""
    return PictureSpec(
        kind="product",
        identity=f"{seed}:product:{product.id}:{position}",
        size=PRODUCT_SIZE,
        palette=PALETTES.get(product.category, VERMILION),
        caption=f"{product.name_zh}\n{product.name_en}",
        caption_latin=product.name_en,
        position=position,
        motif=SILHOUETTES.get(product.category, "box"),
    )


def picture_jpeg(spec: PictureSpec) -> bytes:
    """The picture as a JPEG, as a phone would upload it (without any metadata)."""
    out = BytesIO()
    draw_picture(spec).save(out, "JPEG", quality=SOURCE_QUALITY)
    return out.getvalue()


def draw_picture(spec: PictureSpec) -> Image.Image:
    """The picture's pixels (RGB); the same spec always gives the same pixels on one machine."""
    rng = random.Random(f"vermilion-demo-picture:{spec.identity}")
    if spec.kind == "avatar":
        return _avatar(spec, rng)
    if spec.kind == "product":
        return _product(spec, rng)
    return _note(spec, rng)


# --- drawing ----------------------------------------------------------------------------------------


def _note(spec: PictureSpec, rng: random.Random) -> Image.Image:
    width, height = spec.size
    start, end, accent = spec.palette
    canvas = _gradient(spec.size, _jitter(rng, accent, 40), _jitter(rng, start, 20), rng.uniform(0, 360))
    layer = Image.new("RGBA", spec.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    _scatter(draw, rng, spec.size, (end, (255, 255, 255), accent), rng.randint(4, 8))
    cjk = cjk_font() is not None
    caption = _visible(spec.caption if cjk else spec.caption_latin, cjk=cjk)
    label = _visible(spec.label if cjk else spec.label_latin, cjk=cjk)
    if not caption:
        # A Chinese title without a font to draw it: the category becomes the heading.
        caption, label = label, "Vermilion"
    margin = width // 16
    title_font, label_font = _font(width // 15), _font(width // 28)
    lines = _wrap(caption, title_font, width - 4 * margin, max_lines=3)
    line_height = _line_height(title_font)
    card_height = len(lines) * line_height + margin // 3 + _line_height(label_font) + 2 * margin
    card = (margin, height - margin - card_height, width - margin, height - margin)
    draw.rounded_rectangle(card, radius=margin, fill=(255, 255, 255, 215))
    if spec.badge:
        badge_font = _font(width // 30)
        badge_width = int(badge_font.getlength(spec.badge)) + margin
        top = (width - margin - badge_width, margin, width - margin, margin + _line_height(badge_font) + 8)
        draw.rounded_rectangle(top, radius=margin // 2, fill=(0, 0, 0, 110))
        draw.text((top[0] + margin // 2, top[1] + 4), spec.badge, font=badge_font, fill=(255, 255, 255, 255))
    picture = Image.alpha_composite(canvas.convert("RGBA"), layer).convert("RGB")
    text = ImageDraw.Draw(picture)
    y = card[1] + margin
    for line in lines:
        text.text((card[0] + margin, y), line, font=title_font, fill=INK)
        y += line_height
    text.text((card[0] + margin, y + margin // 3), label, font=label_font, fill=_darker(accent))
    return picture


def _scatter(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    size: tuple[int, int],
    colours: tuple[Colour, ...],
    count: int,
) -> None:
    """`count` translucent discs, rings and tiles over the upper three quarters."""
    width, height = size
    for _ in range(count):
        radius = rng.randint(width // 12, width // 3)
        x, y = rng.randint(0, width), rng.randint(0, height * 3 // 4)
        fill = (*_jitter(rng, rng.choice(colours), 30), rng.randint(60, 150))
        box = (x - radius, y - radius, x + radius, y + radius)
        shape = rng.choice(("disc", "ring", "tile"))
        if shape == "disc":
            draw.ellipse(box, fill=fill)
        elif shape == "ring":
            draw.ellipse(box, outline=fill, width=max(4, radius // 6))
        else:
            draw.rounded_rectangle(box, radius=radius // 4, fill=fill)


def _avatar(spec: PictureSpec, rng: random.Random) -> Image.Image:
    width, height = spec.size
    _, end, accent = spec.palette
    picture = _gradient(spec.size, _jitter(rng, accent, 30), _jitter(rng, end, 20), rng.uniform(0, 360))
    draw = ImageDraw.Draw(picture)
    inset = width // 10
    draw.ellipse((inset, inset, width - inset, height - inset), outline=(255, 255, 255), width=width // 40)
    cjk = cjk_font() is not None
    initial = _visible(spec.caption if cjk else spec.caption_latin, cjk=cjk) or "·"
    font = _font(width * 2 // 5)
    left, top, right, bottom = draw.textbbox((0, 0), initial, font=font)
    draw.text(
        ((width - (right - left)) // 2 - left, (height - (bottom - top)) // 2 - top),
        initial,
        font=font,
        fill=(255, 255, 255),
    )
    return picture


def _product(spec: PictureSpec, rng: random.Random) -> Image.Image:
    """The first shot is a plain packshot; the others show the product larger, among shapes."""
    width, height = spec.size
    start, end, accent = spec.palette
    picture = _gradient(spec.size, _jitter(rng, end, 10), _jitter(rng, start, 25), rng.uniform(60, 120))
    if spec.position > 0:
        layer = Image.new("RGBA", spec.size, (0, 0, 0, 0))
        _scatter(ImageDraw.Draw(layer), rng, spec.size, (start, (255, 255, 255), accent), rng.randint(5, 9))
        picture = Image.alpha_composite(picture.convert("RGBA"), layer).convert("RGB")
    draw = ImageDraw.Draw(picture)
    # The product stands in the upper two thirds, on a soft shadow; the names go below.
    unit = int(width * (0.2 if spec.position == 0 else 0.26) * rng.uniform(0.85, 1.05))
    centre_x = width // 2 + rng.randint(-width // 12, width // 12)
    base_y = int(height * 0.66)
    shadow = unit * 11 // 10
    draw.ellipse((centre_x - shadow, base_y - 18, centre_x + shadow, base_y + 18), fill=_darker(start, 0.8))
    _silhouette(draw, spec.motif, centre_x, base_y, unit, _jitter(rng, accent, 25))
    cjk = cjk_font() is not None
    caption = _visible(spec.caption if cjk else spec.caption_latin, cjk=cjk)
    font = _font(width // 22)
    y = int(height * 0.73)
    for paragraph in caption.splitlines():
        for line in _wrap(paragraph, font, width - width // 5, max_lines=2):
            draw.text(((width - int(font.getlength(line))) // 2, y), line, font=font, fill=INK)
            y += _line_height(font)
    return picture


def _silhouette(draw: ImageDraw.ImageDraw, shape: str, x: int, base: int, unit: int, fill: Colour) -> None:
    """A product shape `unit` pixels wide-ish standing on `base`, centred on `x`."""
    light = _lighter(fill)
    if shape == "bottle":
        draw.rounded_rectangle(
            (x - unit // 2, base - 2 * unit, x + unit // 2, base), radius=unit // 5, fill=fill
        )
        draw.rounded_rectangle(
            (x - unit // 5, base - 2 * unit - unit // 2, x + unit // 5, base - 2 * unit), 6, light
        )
        draw.rectangle((x - unit // 3, base - 4 * unit // 3, x + unit // 3, base - 2 * unit // 3), fill=light)
    elif shape == "jar":
        draw.rounded_rectangle((x - unit, base - 6 * unit // 5, x + unit, base), radius=unit // 3, fill=fill)
        draw.rounded_rectangle((x - unit, base - 8 * unit // 5, x + unit, base - 6 * unit // 5), 10, light)
    elif shape == "book":
        draw.rectangle((x - 3 * unit // 4, base - 2 * unit, x + 3 * unit // 4, base), fill=fill)
        draw.rectangle((x - 3 * unit // 4, base - 2 * unit, x - unit // 2, base), fill=_darker(fill))
        draw.rectangle((x - unit // 4, base - 3 * unit // 2, x + unit // 2, base - 5 * unit // 4), fill=light)
    elif shape == "bag":
        draw.arc(
            (x - unit // 2, base - 2 * unit, x + unit // 2, base - unit), 180, 360, fill=fill, width=unit // 8
        )
        draw.rounded_rectangle((x - unit, base - 3 * unit // 2, x + unit, base), radius=unit // 6, fill=fill)
    else:  # a box
        draw.rounded_rectangle((x - unit, base - 3 * unit // 2, x + unit, base), radius=unit // 10, fill=fill)
        draw.rectangle((x - unit, base - unit, x + unit, base - 3 * unit // 4), fill=light)


def _gradient(size: tuple[int, int], start: Colour, end: Colour, angle: float) -> Image.Image:
    """`start` fading into `end` along `angle` degrees."""
    ramp = Image.linear_gradient("L").rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    # The largest square inside the rotated one: no corner of the picture falls outside the ramp.
    radians = math.radians(angle)
    side = int(256 / (abs(math.cos(radians)) + abs(math.sin(radians))))
    left = (ramp.width - side) // 2
    mask = ramp.crop((left, left, left + side, left + side)).resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)


def _jitter(rng: random.Random, colour: Colour, spread: int) -> Colour:
    red, green, blue = (max(0, min(255, c + rng.randint(-spread, spread))) for c in colour)
    return red, green, blue


def _darker(colour: Colour, factor: float = 0.6) -> Colour:
    red, green, blue = (int(c * factor) for c in colour)
    return red, green, blue


def _lighter(colour: Colour) -> Colour:
    red, green, blue = (c + (255 - c) // 2 for c in colour)
    return red, green, blue


# --- text -------------------------------------------------------------------------------------------


def _visible(text: str, *, cjk: bool) -> str:
    """`text` without what the font cannot draw: emoji and symbols always, non-ASCII without a CJK font."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("So", "Sk", "Cn", "Co", "Cs", "Cf", "Mn") or ord(char) > 0xFFFF:
            continue
        if not cjk and not (char.isascii() and (char.isprintable() or char == "\n")):
            continue
        kept.append(char)
    return re.sub(r"[ \t]+", " ", "".join(kept)).strip()


def _wrap(text: str, font: Font, max_width: int, *, max_lines: int) -> list[str]:
    """`text` in lines at most `max_width` wide, breaking between words (between any two CJK characters);
    at most `max_lines`, the last ending with an ellipsis when text was left out."""
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(text):
        candidate = line + token
        # Chinese punctuation never starts a line: it stays on this one, a little over the width.
        if not line or token in _NO_LINE_START or font.getlength(candidate.rstrip()) <= max_width:
            line = candidate
            continue
        lines.append(line.rstrip())
        line = token.lstrip()
    if line.strip():
        lines.append(line.rstrip())
    lines = [_fit(line, font, max_width) for line in lines]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _fit(lines[max_lines - 1] + "...", font, max_width, tail="...")]
    return lines


def _fit(line: str, font: Font, max_width: int, *, tail: str = "") -> str:
    """`line` cut (keeping `tail`) until it is at most `max_width` wide."""
    body = line.removesuffix(tail)
    while body and font.getlength(body + tail) > max_width:
        body = body[:-1]
    return body.rstrip() + tail


def _line_height(font: Font) -> int:
    # Pillow's bitmap font (no FreeType) takes Latin-1 text only.
    _, top, _, bottom = font.getbbox("Hg国" if cjk_font() is not None else "Hg")
    return int((bottom - top) * 1.35) + 2


@cache
def cjk_font(roots: tuple[Path, ...] = FONT_DIRS) -> Path | None:
    """The first font under `roots` with Chinese glyphs that Pillow can open; None when there is none."""
    for pattern in CJK_FONTS:
        for root in roots:
            if not root.is_dir():
                continue
            for path in sorted(root.rglob(pattern)):
                try:
                    ImageFont.truetype(str(path), 12)
                except OSError:
                    continue
                return path
    return None


_fonts = threading.local()


def _font(size: int) -> Font:
    """The caption font at `size` px: the CJK font if any, else Pillow's own (scalable when Pillow has
    FreeType, its small bitmap font otherwise). Per thread: a FreeType face must not be shared."""
    cached: dict[int, Font] = _fonts.__dict__.setdefault("by_size", {})
    font = cached.get(size)
    if font is None:
        path = cjk_font()
        if path is not None:
            font = ImageFont.truetype(
                str(path), size, index=_face_index(path), layout_engine=ImageFont.Layout.BASIC
            )
        else:
            font = ImageFont.load_default(size=size)
        cached[size] = font
    return font


def _face_index(path: Path) -> int:
    # Noto CJK and Source Han collections hold Japanese, Korean, Simplified Chinese … in that order: the
    # Simplified Chinese face draws Chinese captions with the glyph shapes Chinese readers expect.
    return (
        2
        if path.suffix == ".ttc" and path.name.startswith(("NotoSansCJK", "NotoSerifCJK", "SourceHan"))
        else 0
    )
