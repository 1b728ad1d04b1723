"""Vocabulary for demo people: display names, handles (romanised) and bios in Chinese and English."""

from __future__ import annotations

# (Chinese, romanised) pairs so a Chinese display name gets a matching lower-case handle.
NICKNAMES = (
    ("桃子", "taozi"),
    ("小鹿", "xiaolu"),
    ("橘子", "juzi"),
    ("芋圆", "yuyuan"),
    ("团子", "tuanzi"),
    ("柚子", "youzi"),
    ("栗子", "lizi"),
    ("奶盖", "naigai"),
    ("喵喵", "miaomiao"),
    ("小番茄", "xiaofanqie"),
    ("汤圆", "tangyuan"),
    ("布丁", "buding"),
    ("麻薯", "mashu"),
    ("可乐", "kele"),
    ("星星", "xingxing"),
    ("月亮", "yueliang"),
    ("晴天", "qingtian"),
    ("小熊", "xiaoxiong"),
    ("兔兔", "tutu"),
    ("阿瓜", "agua"),
    ("豆包", "doubao"),
    ("小满", "xiaoman"),
    ("年糕", "niangao"),
    ("椰子", "yezi"),
)
ZH_CITIES = (
    ("上海", "shanghai"),
    ("北京", "beijing"),
    ("成都", "chengdu"),
    ("杭州", "hangzhou"),
    ("广州", "guangzhou"),
    ("深圳", "shenzhen"),
    ("重庆", "chongqing"),
    ("厦门", "xiamen"),
    ("大理", "dali"),
    ("长沙", "changsha"),
    ("西安", "xian"),
    ("南京", "nanjing"),
    ("苏州", "suzhou"),
    ("青岛", "qingdao"),
)
ZH_NAME_PATTERNS = (
    "{nick}在{city}",
    "{city}的{nick}",
    "是{nick}呀",
    "{nick}今天也要开心",
    "爱吃{food}的{nick}",
    "{nick}的{label}日记",
    "{nick}{nick2}",
    "{nick}酱",
)
ZH_FOODS = ("火锅", "芒果", "草莓", "螺蛳粉", "奶茶", "烤肉", "蛋挞", "小龙虾")

FIRST_NAMES = (
    "Emma",
    "Olivia",
    "Noah",
    "Liam",
    "Ava",
    "Mia",
    "Lucas",
    "Chloe",
    "Grace",
    "Ethan",
    "Zoe",
    "Ivy",
    "Leo",
    "Ruby",
    "Sam",
    "Maya",
    "Jack",
    "Nora",
    "Owen",
    "Lily",
    "Aria",
    "Hannah",
    "Daniel",
    "Sofia",
)
LAST_NAMES = (
    "Chen",
    "Smith",
    "Nguyen",
    "Park",
    "Garcia",
    "Lee",
    "Brown",
    "Wong",
    "Miller",
    "Kim",
    "Lopez",
    "Davis",
    "Tan",
    "Walker",
    "Khan",
    "Rossi",
)
EN_NAME_PATTERNS = ("{first} {last}", "{first} | {label}", "{first} in {city}", "{first} {last_initial}.")
EN_CITIES = (
    "Shanghai",
    "Beijing",
    "Chengdu",
    "Shenzhen",
    "London",
    "Toronto",
    "Sydney",
    "Singapore",
    "Austin",
)
# Chinese names bilingual people go by, paired with their English first name.
BILINGUAL_NAME_PATTERNS = ("{first} {nick}", "{first}在{city}", "{first}｜{label}日记", "{nick} {first}")

BIOS_ZH = (
    "{city}｜{label}+{label2}爱好者 {emoji}",
    "分享{label}和日常碎片 · 真实分享不恰饭",
    "95后打工人，下班研究{label}",
    "不定期更新{label}/{label2}，评论区常驻",
    "一个热爱生活的普通人 {emoji}",
    "{label}博主 · 合作请私信",
)
BIOS_EN = (
    "{label} & {label2} in {city} {emoji}",
    "Sharing honest {label} finds. New to Vermilion!",
    "Designer by day, {label} nerd by night",
    "Moved to {city} in 2025, documenting {label} and {label2}",
    "Here for the {label} recommendations {emoji}",
)
BIOS_BILINGUAL = (
    "{label_zh}/{label} · 中英双语分享 {emoji}",
    "Bilingual {label} notes｜{label_zh}日记",
    "在{city_zh}生活的第三年 · {label} & {label2}",
)
