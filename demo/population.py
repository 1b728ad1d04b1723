"""The demo people: the three documented accounts, then creators, casual users and merchants."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from demo import names
from demo.brands import Brand, make_brand
from demo.content import CATEGORIES, CATEGORY_BY_KEY, EMOJI
from demo.world import DAY, HOUR, MEDIA_BASE, WINDOW_START, UserRow
from social.topics import normalize_topic_name

DEMO_PASSWORD = "vermilion-demo"
EMAIL_DOMAIN = "mail.vermilion.example"
MAX_HANDLE = 30
# How often each category is someone's interest: beauty, fashion and food lead, as on the app.
CATEGORY_WEIGHTS = {
    "skincare": 14,
    "makeup": 12,
    "fashion": 14,
    "food": 14,
    "travel": 12,
    "home": 9,
    "fitness": 8,
    "pets": 7,
    "reading": 5,
    "tech": 5,
}
FIRST_JOINED = WINDOW_START - 300 * DAY
LAST_JOINED = WINDOW_START - 5 * DAY


@dataclass(frozen=True)
class DemoAccount:
    """A documented sign-in account the seed always creates."""

    email: str
    handle: str
    password: str
    role: str
    description: str


DEMO_ACCOUNTS = (
    DemoAccount(
        "demo@vermilion.dev",
        "demo",
        DEMO_PASSWORD,
        "shopper",
        "Shopper who follows several creators: a following feed of 25+ notes, boards, likes.",
    ),
    DemoAccount(
        "creator@vermilion.dev",
        "xiaohong",
        DEMO_PASSWORD,
        "creator",
        "Popular Chinese creator (skincare, makeup, fashion) with many notes and followers.",
    ),
    DemoAccount(
        "merchant@vermilion.dev",
        "shop",
        DEMO_PASSWORD,
        "merchant",
        "Merchant running the Vermilion Select shop; owns products tagged and reviewed in notes.",
    ),
)


def build_users(rng: random.Random, count: int) -> list[UserRow]:
    """`count` users, ids 1..count in joining order; the demo accounts are ids 1, 2 and 3."""
    if count < len(DEMO_ACCOUNTS):
        raise ValueError(f"the demo world needs at least {len(DEMO_ACCOUNTS)} users")
    taken: dict[str, None] = {account.handle: None for account in DEMO_ACCOUNTS}
    users = _demo_users()
    others = count - len(users)
    merchant_slots = set(rng.sample(range(others), min(others, max(0, round(count * 0.04) - 1))))
    joined = sorted(rng.randint(FIRST_JOINED, LAST_JOINED) for _ in range(others))
    shops = 1  # brand 0 is the demo merchant's
    for index in range(others):
        role = "merchant" if index in merchant_slots else "creator" if rng.random() < 0.35 else "casual"
        brand = None
        if role == "merchant":
            brand, shops = make_brand(shops), shops + 1
        users.append(_make_user(rng, len(users) + 1, role, joined[index], taken, brand))
    # The documented creator must be among the most visible people of any world.
    top = sorted((user.popularity for user in users), reverse=True)
    users[1].popularity = max(8.0, top[min(2, len(top) - 1)])
    return users


def _demo_users() -> list[UserRow]:
    demo, creator, merchant = DEMO_ACCOUNTS
    house = make_brand(0)
    return [
        _demo_user(
            1,
            demo,
            "Demo 小朱",
            "Vermilion 演示账号 · Demo shopper, here for skincare, food and travel finds",
            languages=["zh", "en"],
            categories=["skincare", "food", "travel", "fashion"],
            popularity=0.3,
            activity=3.0,
            posting=0.0,
        ),
        _demo_user(
            2,
            creator,
            "小红 Xiaohong",
            "护肤/彩妆/穿搭 · 真实分享不恰饭 ✨ Honest beauty & style notes",
            languages=["zh"],
            categories=["skincare", "makeup", "fashion"],
            popularity=8.0,
            activity=2.0,
            posting=4.0,
        ),
        _demo_user(
            3,
            merchant,
            f"{house.name_zh} {house.name_en}",
            "Vermilion 官方演示店铺 · The official demo shop",
            languages=["zh", "en"],
            categories=["skincare", "makeup", "home"],
            popularity=2.0,
            activity=0.5,
            posting=0.3,
            brand=house,
        ),
    ]


def _demo_user(
    user_id: int,
    account: DemoAccount,
    display_name: str,
    bio: str,
    *,
    languages: list[str],
    categories: list[str],
    popularity: float,
    activity: float,
    posting: float,
    brand: Brand | None = None,
) -> UserRow:
    # The documented accounts are the oldest, an hour apart, before anyone else joined.
    return UserRow(
        id=user_id,
        email=account.email,
        handle=account.handle,
        display_name=display_name,
        bio=bio,
        avatar_url=f"{MEDIA_BASE}/avatars/{account.handle}.jpg",
        languages=languages,
        interests=_interests(languages, categories),
        created_at=FIRST_JOINED - 30 * DAY + user_id * HOUR,
        role=account.role,
        categories=categories,
        popularity=popularity,
        activity=activity,
        posting=posting,
        brand=brand,
    )


def _make_user(
    rng: random.Random, user_id: int, role: str, joined: int, taken: dict[str, None], brand: Brand | None
) -> UserRow:
    roll = rng.random()
    languages = ["zh"] if roll < 0.6 else ["en"] if roll < 0.85 else ["zh", "en"]
    categories = _pick_categories(rng, rng.choice((1, 2, 2, 3)))
    if role == "creator":
        # Pareto: most creators are small, a few become very visible.
        popularity = rng.paretovariate(1.5)
        posting = popularity**0.5 * rng.lognormvariate(0, 0.5)
    elif role == "merchant":
        popularity = 0.5 + rng.random()
        posting = 0.15
    else:
        popularity = 0.05 + 0.3 * rng.random()
        posting = 0.06 * rng.lognormvariate(0, 0.5)
    if brand is not None:
        display_name = f"{brand.name_zh} {brand.name_en}"
        handle = _unique_handle(_slug(brand.name_en), taken)
        bio = f"{brand.name_zh}官方店 · {brand.name_en} official shop on Vermilion"
    else:
        display_name, handle_base = _name(rng, languages, categories)
        handle = _unique_handle(handle_base, taken)
        bio = _bio(rng, languages, categories)
    return UserRow(
        id=user_id,
        email=f"{handle}@{EMAIL_DOMAIN}",
        handle=handle,
        display_name=display_name[:50],
        bio=bio[:500],
        avatar_url=None if rng.random() < 0.08 else f"{MEDIA_BASE}/avatars/{handle}.jpg",
        languages=languages,
        interests=_interests(languages, categories),
        created_at=joined,
        role=role,
        categories=categories,
        popularity=popularity,
        activity=rng.lognormvariate(0, 0.8),
        posting=posting,
        brand=brand,
    )


def _pick_categories(rng: random.Random, count: int) -> list[str]:
    keys = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    chosen: dict[str, None] = {}
    while len(chosen) < count:
        chosen[rng.choices(keys, weights=weights)[0]] = None
    return list(chosen)


def _interests(languages: list[str], categories: list[str]) -> list[str]:
    """The categories' own topics, in the user's languages, normalised like every topic name."""
    interests: dict[str, None] = {}
    for key in categories:
        category = CATEGORY_BY_KEY[key]
        if "zh" in languages:
            interests[normalize_topic_name(category.topics_zh[0])] = None
        if "en" in languages:
            interests[normalize_topic_name(category.topics_en[0])] = None
    return list(interests)


def _name(rng: random.Random, languages: list[str], categories: list[str]) -> tuple[str, str]:
    """A display name and the handle it suggests."""
    category = CATEGORY_BY_KEY[categories[0]]
    nick, nick_py = rng.choice(names.NICKNAMES)
    city, city_py = rng.choice(names.ZH_CITIES)
    first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
    if languages == ["zh"]:
        nick2, nick2_py = rng.choice(names.NICKNAMES)
        pattern = rng.choice(names.ZH_NAME_PATTERNS)
        display = pattern.format(
            nick=nick, nick2=nick2, city=city, food=rng.choice(names.ZH_FOODS), label=category.label_zh
        )
        handle = rng.choice(
            (f"{nick_py}_{city_py}", f"{nick_py}{nick2_py}", f"{nick_py}_{category.key}", nick_py)
        )
    elif languages == ["en"]:
        pattern = rng.choice(names.EN_NAME_PATTERNS)
        display = pattern.format(
            first=first,
            last=last,
            last_initial=last[0],
            city=rng.choice(names.EN_CITIES),
            label=category.label_en.capitalize(),
        )
        handle = rng.choice(
            (f"{first}_{last}", f"{first}{last}", f"{first}_{category.key}", f"{first}{last[0]}")
        )
    else:
        pattern = rng.choice(names.BILINGUAL_NAME_PATTERNS)
        display = pattern.format(first=first, nick=nick, city=city, label=category.label_zh)
        handle = rng.choice((f"{first}_{nick_py}", f"{nick_py}_{first}", f"{first}_in_{city_py}"))
    return display, handle


def _bio(rng: random.Random, languages: list[str], categories: list[str]) -> str:
    if rng.random() < 0.1:
        return ""
    first = CATEGORY_BY_KEY[categories[0]]
    second = CATEGORY_BY_KEY[categories[-1]] if len(categories) > 1 else rng.choice(CATEGORIES)
    slots = {
        "label": first.label_en,
        "label2": second.label_en,
        "label_zh": first.label_zh,
        "city": rng.choice(names.EN_CITIES),
        "city_zh": rng.choice(names.ZH_CITIES)[0],
        "emoji": rng.choice(EMOJI),
    }
    pool: tuple[str, ...]
    if languages == ["zh"]:
        slots.update(label=first.label_zh, label2=second.label_zh, city=rng.choice(names.ZH_CITIES)[0])
        pool = names.BIOS_ZH
    elif languages == ["en"]:
        pool = names.BIOS_EN
    else:
        pool = names.BIOS_BILINGUAL
    return rng.choice(pool).format_map(slots)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _unique_handle(base: str, taken: dict[str, None]) -> str:
    """`base` as a handle (lower-case [a-z0-9_], ≤ 30 chars), numbered when already taken."""
    stem = _slug(base)[: MAX_HANDLE - 5] or "user"
    handle, number = stem, 1
    while handle in taken:
        number += 1
        handle = f"{stem}{number}"
    taken[handle] = None
    return handle
