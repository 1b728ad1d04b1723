"""Vocabulary for the demo catalogue: invented brand names, product types and their variant schemes."""

from __future__ import annotations

from typing import NamedTuple


class ProductType(NamedTuple):
    name_zh: str
    name_en: str
    scheme: str
    # Price range in whole yuan for the cheapest variant.
    low: int
    high: int


class VariantScheme(NamedTuple):
    names: tuple[str, ...]
    # Price multiplier per option (bigger sizes cost more); None when every option costs the same.
    multipliers: tuple[float, ...] | None


VARIANT_SCHEMES: dict[str, VariantScheme] = {
    "volume": VariantScheme(("15ml", "30ml", "50ml", "100ml"), (0.5, 1.0, 1.5, 2.6)),
    "shade": VariantScheme(
        ("色号 999", "色号 520", "色号 316", "色号 888", "#01 Rosewood", "#02 Coral"), None
    ),
    "foundation": VariantScheme(("01 象牙白 Ivory", "02 自然色 Natural", "03 小麦色 Honey"), None),
    "clothing": VariantScheme(("S", "M", "L", "XL"), None),
    "color": VariantScheme(("燕麦色 Oat", "黑色 Black", "雾霾蓝 Haze Blue", "奶白色 Cream"), None),
    "count": VariantScheme(("7袋装", "14袋装", "30袋装"), (1.0, 1.8, 3.6)),
    "set": VariantScheme(("4件套", "6件套"), (1.0, 1.4)),
    "luggage": VariantScheme(('20寸 20"', '24寸 24"', '28寸 28"'), (1.0, 1.25, 1.5)),
    "scent": VariantScheme(("无花果 Fig", "白茶 White Tea", "雪松 Cedar", "橙花 Neroli"), None),
    "bed": VariantScheme(("1.5m床", "1.8m床"), (1.0, 1.2)),
    "thickness": VariantScheme(("6mm", "8mm", "10mm"), (1.0, 1.15, 1.3)),
    "flavor": VariantScheme(("香草 Vanilla", "巧克力 Chocolate", "抹茶 Matcha", "原味 Original"), None),
    "weight": VariantScheme(("500g", "1.5kg", "3kg"), (1.0, 2.6, 4.8)),
    "format": VariantScheme(("A5", "A6", "B6"), None),
    "finish": VariantScheme(("雾白 Frost White", "曜石黑 Obsidian", "远峰蓝 Sierra Blue"), None),
    "capacity": VariantScheme(("10000mAh", "20000mAh"), (1.0, 1.5)),
    "single": VariantScheme(("标准装 Standard",), None),
}

PRODUCT_TYPES: dict[str, tuple[ProductType, ...]] = {
    "skincare": (
        ProductType("修护精华", "Repair Serum", "volume", 129, 459),
        ProductType("清透防晒乳 SPF50+", "Daily Sunscreen SPF50+", "volume", 69, 199),
        ProductType("氨基酸洁面", "Amino Cleanser", "volume", 39, 129),
        ProductType("保湿面霜", "Moisture Cream", "volume", 99, 369),
    ),
    "makeup": (
        ProductType("丝绒雾面口红", "Velvet Matte Lipstick", "shade", 89, 329),
        ProductType("轻薄气垫", "Cushion Foundation", "foundation", 129, 399),
        ProductType("九色眼影盘", "Eyeshadow Palette", "single", 99, 459),
        ProductType("水光唇釉", "Glossy Lip Tint", "shade", 59, 199),
    ),
    "fashion": (
        ProductType("廓形西装外套", "Oversized Blazer", "clothing", 299, 899),
        ProductType("羊毛针织开衫", "Wool Cardigan", "color", 199, 699),
        ProductType("高腰阔腿牛仔裤", "Wide-leg Jeans", "clothing", 159, 459),
        ProductType("帆布托特包", "Canvas Tote", "color", 79, 259),
    ),
    "food": (
        ProductType("冻干咖啡", "Freeze-dried Coffee", "count", 49, 169),
        ProductType("每日坚果", "Daily Nuts", "count", 39, 129),
        ProductType("手工牛轧糖", "Handmade Nougat", "single", 29, 89),
        ProductType("云南小粒咖啡豆", "Yunnan Coffee Beans", "weight", 59, 199),
    ),
    "travel": (
        ProductType("铝框行李箱", "Aluminium Suitcase", "luggage", 399, 1299),
        ProductType("旅行收纳袋", "Packing Cubes", "set", 49, 149),
        ProductType("记忆棉颈枕", "Travel Neck Pillow", "color", 59, 149),
    ),
    "home": (
        ProductType("香薰蜡烛", "Scented Candle", "scent", 69, 259),
        ProductType("水洗亚麻四件套", "Linen Bedding Set", "bed", 399, 1099),
        ProductType("免打孔洞洞板", "Pegboard Kit", "color", 59, 199),
        ProductType("北欧落地灯", "Floor Lamp", "color", 199, 599),
    ),
    "fitness": (
        ProductType("TPE瑜伽垫", "Yoga Mat", "thickness", 69, 239),
        ProductType("乳清蛋白粉", "Whey Protein", "flavor", 159, 399),
        ProductType("速干运动T恤", "Dry-fit Tee", "clothing", 59, 169),
        ProductType("竞速跳绳", "Speed Rope", "single", 29, 99),
    ),
    "pets": (
        ProductType("冻干猫粮", "Freeze-dried Cat Food", "weight", 89, 359),
        ProductType("瓦楞纸猫抓板", "Cardboard Scratcher", "single", 29, 89),
        ProductType("宠物外出包", "Pet Carrier", "color", 129, 399),
    ),
    "reading": (
        ProductType("手帐本", "Planner", "format", 39, 129),
        ProductType("护眼阅读灯", "Reading Light", "finish", 69, 199),
        ProductType("金属书签套装", "Metal Bookmarks", "single", 19, 59),
    ),
    "tech": (
        ProductType("主动降噪耳机", "ANC Earbuds", "finish", 199, 999),
        ProductType("磁吸充电宝", "Magnetic Power Bank", "capacity", 99, 299),
        ProductType("机械键盘", "Mechanical Keyboard", "finish", 299, 899),
        ProductType("七合一扩展坞", "7-in-1 USB-C Hub", "single", 99, 259),
    ),
}

SELLING_POINTS: dict[str, tuple[str, str]] = {
    "skincare": ("温和不刺激，敏感肌也能放心用", "gentle enough for sensitive skin"),
    "makeup": ("显色持妆，日常通勤都合适", "buildable colour that lasts all day"),
    "fashion": ("经典版型，怎么搭都不出错", "a classic cut that goes with everything"),
    "food": ("小份包装，新鲜看得见", "small packs, always fresh"),
    "travel": ("轻便耐用，出行更省心", "light, tough and ready for any trip"),
    "home": ("给家添一点温柔的氛围", "a softer, cosier home"),
    "fitness": ("专业级材质，练得更安心", "pro-grade materials for every session"),
    "pets": ("主子认证，吃得安心玩得开心", "approved by the pickiest pets"),
    "reading": ("陪你读完每一本好书", "for every book you mean to finish"),
    "tech": ("设计简洁，续航持久", "clean design, long battery life"),
}

BRAND_WORDS_ZH = (
    "山茶",
    "北屿",
    "栗子",
    "青柠",
    "森屋",
    "橙意",
    "白桃",
    "鹿角",
    "云朵",
    "晴空",
    "海盐",
    "松果",
    "半夏",
    "柚见",
    "木棉",
    "星河",
)
BRAND_SUFFIXES_ZH = ("集", "家", "研究所", "生活", "实验室", "小铺", "工坊", "优选")
BRAND_WORDS_EN = (
    "Camellia",
    "Northisle",
    "Chestnut",
    "Lime",
    "Mori",
    "Orange",
    "Peach",
    "Antler",
    "Cloud",
    "Clearsky",
    "Seasalt",
    "Pinecone",
    "Midsummer",
    "Pomelo",
    "Kapok",
    "Galaxy",
)
BRAND_SUFFIXES_EN = ("Lab", "Home", "Studio", "Co.", "Goods", "Supply", "Works", "Select")

# The demo merchant account's own shop.
HOUSE_BRAND = ("朱红优选", "Vermilion Select", "VMS")


class Brand(NamedTuple):
    name_zh: str
    name_en: str
    # Upper-case letters that start every SKU of the brand.
    code: str


def make_brand(index: int) -> Brand:
    """The index-th invented brand; every index gives a different name."""
    if index == 0:
        return Brand(*HOUSE_BRAND)
    index -= 1
    words, suffixes = len(BRAND_WORDS_ZH), len(BRAND_SUFFIXES_ZH)
    word, suffix, generation = index % words, (index // words) % suffixes, index // (words * suffixes)
    name_zh = BRAND_WORDS_ZH[word] + BRAND_SUFFIXES_ZH[suffix]
    name_en = f"{BRAND_WORDS_EN[word]} {BRAND_SUFFIXES_EN[suffix]}"
    code = (BRAND_WORDS_EN[word][:3] + BRAND_SUFFIXES_EN[suffix][0]).upper()
    if generation:
        # Past the vocabulary, later shops are numbered branches of the same names.
        name_zh += f"{generation + 1}号店"
        name_en += f" No.{generation + 1}"
        code += str(generation + 1)
    return Brand(name_zh, name_en, code)
