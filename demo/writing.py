"""Turns the content vocabularies into post-like titles, bodies and comments."""

from __future__ import annotations

import random
from typing import Literal

from demo import content
from demo.content import Category

Mode = Literal["zh", "en", "mixed"]

MAX_TITLE = 100
MAX_BODY = 5000
MAX_COMMENT = 1000
PRICES = (29, 49, 59, 69, 89, 99, 129, 159, 199, 299, 399, 599)


class NoteWriter:
    """Writes one note: a subject, a city and a season chosen once so title and body agree."""

    def __init__(
        self, rng: random.Random, category: Category, mode: Mode, subject: tuple[str, str] | None = None
    ):
        self.rng = rng
        self.category = category
        self.mode = mode
        index = rng.randrange(len(category.subjects_zh))
        self.base = {
            "zh": {
                "subject": category.subjects_zh[index],
                "city": rng.choice(content.CITIES_ZH),
                "season": rng.choice(content.SEASONS_ZH),
                "feeling": rng.choice(content.FEELINGS_ZH),
                "label": category.label_zh,
            },
            "en": {
                "subject": category.subjects_en[index % len(category.subjects_en)],
                "city": rng.choice(content.CITIES_EN),
                "season": rng.choice(content.SEASONS_EN),
                "feeling": rng.choice(content.FEELINGS_EN),
                "label": category.label_en,
            },
        }
        if subject is not None:
            self.base["zh"]["subject"], self.base["en"]["subject"] = subject
        self.price = rng.choice(PRICES)
        # One bullet style per post, as people format a whole list the same way.
        self.bullet = rng.choice(content.BULLETS)

    def fill(self, template: str, language: str, **extra: object) -> str:
        slots = dict(self.base[language], price=self.price, **extra)
        slots.setdefault("n", self.rng.randint(2, 9))
        slots.setdefault("emoji", self.rng.choice(content.EMOJI))
        text = template.format_map(slots)
        # English sentences may open with a slot ("{season} mornings…"): capitalise them.
        return text[:1].upper() + text[1:] if language == "en" else text

    def title(self) -> str:
        rng, category = self.rng, self.category
        if self.mode == "mixed":
            template = rng.choice(
                (
                    "{subject_en} {mixed_zh}｜{mixed_en}",
                    "{mixed_zh}｜{subject_zh} {mixed_en} {emoji}",
                    "{subject_zh} {mixed_en}｜{label_zh}分享",
                )
            )
            text = self.fill(
                template,
                "zh",
                subject_en=self.base["en"]["subject"],
                subject_zh=self.base["zh"]["subject"],
                label_zh=category.label_zh,
                mixed_zh=category.mixed_zh,
                mixed_en=category.mixed_en,
            )
        elif self.mode == "zh":
            text = self.fill(rng.choice(category.titles_zh), "zh")
        else:
            text = self.fill(rng.choice(category.titles_en), "en")
        return text[:MAX_TITLE]

    def lines(self) -> list[str]:
        """The middle of the post, in the note's language (mixed notes alternate languages)."""
        rng, category = self.rng, self.category
        if self.mode == "mixed":
            zh = rng.sample(category.lines_zh, rng.randint(1, 4))
            en = rng.sample(category.lines_en, rng.randint(1, 3))
            pairs = [(line, "zh") for line in zh] + [(line, "en") for line in en]
            rng.shuffle(pairs)
        else:
            pool = category.lines_zh if self.mode == "zh" else category.lines_en
            pairs = [(line, self.mode) for line in rng.sample(pool, rng.randint(2, 6))]
        return [self.bullet + self.fill(line, language) for line, language in pairs]

    def body(self, middle: list[str], hashtags: list[str]) -> str:
        rng = self.rng
        language = "en" if self.mode == "en" else "zh"
        openers = content.OPENERS_EN if language == "en" else content.OPENERS_ZH
        closers = content.CLOSERS_EN if language == "en" else content.CLOSERS_ZH
        parts = [self.fill(rng.choice(openers), language), *middle, self.fill(rng.choice(closers), language)]
        text = "\n".join(part for part in parts if part)
        tags = " ".join(f"#{tag}" for tag in hashtags)
        return f"{text}\n\n{tags}"[:MAX_BODY]

    def post(self, hashtags: list[str]) -> tuple[str, str]:
        """Title and body of an everyday post."""
        return self.title(), self.body(self.lines(), hashtags)

    def review(self, product_name: str, rating: int, hashtags: list[str]) -> tuple[str, str]:
        """Title and body of a review of `product_name`, its tone following the rating."""
        rng = self.rng
        stars = "⭐" * rating
        pool = {
            "zh": content.REVIEW_TITLES_ZH,
            "en": content.REVIEW_TITLES_EN,
            "mixed": content.REVIEW_TITLES_MIXED,
        }[self.mode]
        language = "en" if self.mode == "en" else "zh"
        title = self.fill(rng.choice(pool), language, product=product_name, stars=stars, rating=rating)
        tone = "good" if rating >= 4 else "fine" if rating == 3 else "bad"
        if language == "en":
            score = f"Rating: {stars} ({rating}/5)"
            verdict = rng.choice(content.VERDICTS_EN[tone])
            bought = f"Product: {product_name} (tagged below)."
        else:
            score = f"评分：{stars}"
            verdict = rng.choice(content.VERDICTS_ZH[tone])
            bought = f"产品：{product_name}（笔记里挂了商品卡）"
        middle = [score, bought, *self.lines(), self.fill(verdict, language, rating=rating)]
        return title[:MAX_TITLE], self.body(middle, hashtags)


def comment_text(rng: random.Random, category: Category, language: str) -> str:
    """A root comment written by someone whose language is `language`."""
    index = rng.randrange(len(category.subjects_zh))
    if language == "en":
        template = rng.choice(content.COMMENTS_EN)
        text = template.format(subject=category.subjects_en[index], label=category.label_en)
    else:
        template = rng.choice(content.COMMENTS_ZH)
        text = template.format(subject=category.subjects_zh[index], label=category.label_zh)
    return text[:MAX_COMMENT]


def reply_text(rng: random.Random, language: str, mention: str | None) -> str:
    """A reply; `mention` is the handle answered when the reply answers another reply."""
    if rng.random() < 0.12:
        text = rng.choice(content.REPLIES_MIXED)
    else:
        text = rng.choice(content.REPLIES_EN if language == "en" else content.REPLIES_ZH)
    if mention is None:
        return text
    return f"@{mention} {text}" if language == "en" else f"回复 @{mention}：{text}"
