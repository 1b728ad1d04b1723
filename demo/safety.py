"""The demo world's trust-and-safety corner: a moderator to sign in as, and a queue with work in it.

Written after the world, through the same rules a client's requests go through (`safety.reports`,
`safety.roles`, `safety.signals`), so every counter and case is exactly what the API would have made.
Deterministic: the same world gives the same reports.
"""

from __future__ import annotations

import random
from datetime import datetime

from tortoise.transactions import in_transaction

from demo.population import DEMO_PASSWORD, DemoAccount
from models import Board, Comment, Note, Product, ReportCategory, Role, SubjectKind, User
from safety.queue import Subject
from safety.reports import file_report
from safety.roles import grant_role
from safety.signals import scan_reviews
from social.engagement import DEFAULT_BOARD_NAME

MODERATOR = DemoAccount(
    "moderator@vermilion.dev",
    "moderator",
    DEMO_PASSWORD,
    "moderator",
    "Moderator: moderationQueue has reported notes, a comment, a product and flagged reviews.",
)

# What the demo's reporters say about what, and how many of them say it.
_REPORTS = (
    (SubjectKind.NOTE, ReportCategory.SPAM, 12, "Same link posted everywhere / 到处发广告链接"),
    (SubjectKind.NOTE, ReportCategory.MISLEADING, 3, "Claims a cream cures acne overnight"),
    (SubjectKind.COMMENT, ReportCategory.HARASSMENT, 4, "Insults the author / 人身攻击"),
    (SubjectKind.PRODUCT, ReportCategory.COUNTERFEIT, 5, "Not the real brand: the logo is wrong"),
)


async def seed_safety(*, password_hash: str, seed: int, now: datetime) -> dict[str, int]:
    """Add the moderator account (one user more than the world's, joined at the world's `now`) and file
    the demo reports; rows written, by table (and flagged reviews)."""
    async with in_transaction():
        moderator = await User.create(
            email=MODERATOR.email,
            handle=MODERATOR.handle,
            display_name="Vermilion 审核 Moderator",
            password_hash=password_hash,
            languages=["zh", "en"],
            interests=["护肤", "穿搭"],
            # The world's clock: it ends at `now`, and ids grow with time.
            created_at=now,
        )
        # Everyone has a default board (collects land there), dated by the world's clock too.
        await Board.create(
            owner_id=moderator.id, name=DEFAULT_BOARD_NAME["zh"], is_default=True, created_at=now
        )
    await grant_role(user_id=moderator.id, role=Role.MODERATOR, granted_by=None, reason="demo moderator")
    rng = random.Random(seed)
    people = [int(row["id"]) for row in await User.filter(role=Role.USER).order_by("id").values("id")]
    notes = (
        await Note.filter(deleted_at=None, review_product_id=None)
        .order_by("id")
        .values_list("id", "author_id")
    )
    comments = await Comment.filter(deleted_at=None).order_by("id").values_list("id", "author_id")
    products = await Product.filter(withheld=False).order_by("id").values_list("id", "merchant_id")
    pools = {SubjectKind.NOTE: notes, SubjectKind.COMMENT: comments, SubjectKind.PRODUCT: products}
    used: set[tuple[SubjectKind, int]] = set()
    reports = 0
    for kind, category, count, comment in _REPORTS:
        pool = [pair for pair in pools[kind] if (kind, pair[0]) not in used]
        if not pool:
            continue
        subject_id, owner_id = rng.choice(pool)
        used.add((kind, subject_id))
        reporters = [p for p in people if p != owner_id]
        for reporter in rng.sample(reporters, min(count, len(reporters))):
            await file_report(
                reporter_id=reporter, subject=Subject(kind, subject_id), category=category, comment=comment
            )
            reports += 1
    flagged = await scan_reviews()
    return {"users": 1, "boards": 1, "reports": reports, "flagged_reviews": flagged.flagged}
