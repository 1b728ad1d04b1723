"""The labelled queries of the search quality benchmark (bench/search_quality.py), as data.

Relevance is not labelled result by result: each query carries a written rule on the seeded demo world
(demo/content.py, demo/posts.py, demo/writing.py), so the judgement covers every note, including notes no
search returned (recall needs them), and stays the same whatever the search code does. A rule says
"relevant iff the note carries one of these topics, or its normalised title or body contains one of these
words" (see `Rule`); a query with a `language` only counts notes detected in that language, as the filter
the user chose would.

Rules describe what a note is *about*, in both languages: an English note about lipstick is relevant to
口红, because the app is bilingual and that is what a concept layer is for. So a search that matches only
the words typed finds at most the notes written in the query's language; the report's recall shows that.
Every note carries its category's main topic (护肤 or Skincare, 旅行 or Travel …; demo/posts.py), so a
category is best recognised by its topics; things inside a category (口红, hot pot, 西湖) by words.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    """Relevant iff a note carries one of `topics` or its title/body contains one of `words`.

    Both are compared after `search.text.normalize` (case, width, Traditional → Simplified). Han words
    match anywhere; Latin words match at the start of a word and may take a plural s/es ("lipstick" finds
    "lipsticks", "cat" does not find "category" or "#CatsOfVermilion"). `expects_nothing`: no note is
    relevant, and the right answer is no results at all.
    """

    topics: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()
    expects_nothing: bool = False

    def __or__(self, other: Rule) -> Rule:
        return Rule(self.topics | other.topics, tuple(dict.fromkeys(self.words + other.words)))


def about(*words: str, topics: tuple[str, ...] = ()) -> Rule:
    return Rule(frozenset(topics), words)


NOTHING = Rule(expects_nothing=True)


@dataclass(frozen=True)
class QueryClass:
    key: str
    label: str
    # What a user typing such a query expects to see (the report prints it).
    expectation: str
    # Judged on its own and left out of the whole-set figures (kana: results or a clear refusal both do).
    separate: bool = False


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    kind: str  # a QueryClass key
    rule: Rule
    language: str | None = None  # the `language` argument of search
    note: str = field(default="", compare=False)


# --- concepts: what notes are about, in both languages ----------------------------------------------------

LIPSTICK = about("口红", "lipstick", topics=("口红试色", "LipSwatches"))
# Not the bare 防晒 or SPF: "白天一定要做好防晒" and "SPF every morning" are asides in a quarter of all
# skincare notes, whatever they are about.
SUNSCREEN = about("防晒霜", "防晒乳", "sunscreen", topics=("防晒", "SPF"))
SKINCARE = about(
    "护肤", "skincare", "skin care", topics=("护肤", "Skincare", "SkincareRoutine", "平价护肤", "油皮护肤")
)
MAKEUP = about(
    "彩妆",
    "化妆",
    "妆容",
    "makeup",
    topics=("彩妆", "Makeup", "MakeupTutorial", "EverydayMakeup", "日常妆容", "新手化妆", "平价彩妆"),
)
TRAVEL = about(
    "旅行",
    "旅游",
    "之旅",
    "travel",
    "trip",
    topics=("旅行", "旅行攻略", "Travel", "TravelChina", "SoloTravel", "Itinerary", "周末去哪儿", "小众景点"),
)
ITINERARY = about("攻略", "行程", "itinerary", "itineraries", topics=("旅行攻略", "Itinerary"))
CITYWALK = about("citywalk", "city walk", topics=("citywalk",))
COFFEE = about("咖啡", "coffee", topics=("咖啡",))
HOTPOT = about("火锅", "hot pot", "hotpot")
DUMPLINGS = about("生煎包", "小笼包", "饺子", "dumpling")
NOODLES = about("牛肉面", "拌面", "面条", "拉面", "noodle")
CHEESECAKE = about("芝士蛋糕", "cheesecake")
FOOD = about(
    "美食", "food", topics=("美食", "Food", "FoodDiary", "探店", "家常菜", "一人食", "Recipe", "StreetFood")
)
SHOP_VISIT = about("探店", topics=("探店",))
FASHION = about(
    "穿搭",
    "outfit",
    "ootd",
    topics=(
        "穿搭",
        "通勤穿搭",
        "小个子穿搭",
        "每日穿搭",
        "胶囊衣橱",
        "Fashion",
        "OOTD",
        "CapsuleWardrobe",
        "StreetStyle",
    ),
)
CAPSULE = about("胶囊衣橱", "capsule wardrobe", topics=("胶囊衣橱", "CapsuleWardrobe"))
BLAZER = about("西装", "blazer")
CARDIGAN = about("开衫", "cardigan")
JEANS = about("牛仔裤", "jeans")
SNEAKERS = about("小白鞋", "sneaker")
TRENCH = about("风衣", "trench coat")
CAT = about("猫", "cat", topics=("猫咪日常", "CatsOfVermilion"))
DOG = about(
    "狗",
    "柯基",
    "金毛",
    "柴犬",
    "边牧",
    "dog",
    "corgi",
    "golden retriever",
    "shiba",
    "collie",
    topics=("狗狗", "DogLife"),
)
GOLDEN = about("金毛", "golden retriever")
PETS = about("萌宠", "宠物", "pet", topics=("萌宠", "Pets", "养宠经验", "铲屎官", "PetCare"))
FITNESS = about(
    "健身",
    "fitness",
    "workout",
    topics=("健身", "减脂", "居家健身", "跑步", "普拉提", "Fitness", "HomeWorkout", "Running", "Pilates"),
)
HOME_WORKOUT = about("居家健身", "home workout", topics=("居家健身", "HomeWorkout"))
DIET = about("减脂", "减肥", "瘦了", "weight loss", topics=("减脂",))
PILATES = about("普拉提", "pilates", topics=("普拉提", "Pilates"))
RUNNING = about("跑步", "running", topics=("跑步", "Running"))
HIIT = about("hiit")
BOOKS = about(
    "读书",
    "书单",
    "reading list",
    "books",
    topics=("读书", "书单推荐", "读书笔记", "阅读打卡", "Books", "ReadingList", "BookNotes", "BookClub"),
)
READING_LIST = about("书单", "reading list", topics=("书单推荐", "ReadingList"))
TECH = about(
    "数码", "gadget", "tech", topics=("数码", "Tech", "数码好物", "开箱", "Unboxing", "DeskSetup", "Gadgets")
)
EARBUDS = about("耳机", "earbud", "headphone")
KEYBOARD = about("键盘", "keyboard")
TABLET = about("平板", "tablet")
HOME = about(
    "家居",
    "home decor",
    topics=(
        "家居",
        "Home",
        "HomeDecor",
        "RoomMakeover",
        "CosyHome",
        "出租屋改造",
        "收纳",
        "家居好物",
        "卧室改造",
    ),
)
MAKEOVER = about("改造", "makeover", topics=("RoomMakeover", "出租屋改造", "卧室改造"))
STORAGE = about("收纳", "storage", topics=("收纳",))
GOOD_FINDS = about("好物", topics=("好物分享", "家居好物", "数码好物"))
SHOPPING = GOOD_FINDS | about("购物", "种草", "shopping")
SERUM = about("精华", "serum")
VITAMIN_C = about("维c", "vitamin c")
CLEANSER = about("洁面", "洗面奶", "cleanser", "face wash")
CLEANSING_BALM = about("卸妆膏", "cleansing balm")
MOISTURISER = about("面霜", "moisturiser", "moisturizer", "moisture cream", "barrier cream")
TONER = about("化妆水", "爽肤水", "toner")
EYE_CREAM = about("眼霜", "eye cream")
SENSITIVE = about("敏感肌", "sensitive skin", topics=("敏感肌", "SensitiveSkin"))
EYESHADOW = about("眼影", "eyeshadow")
FOUNDATION = about("粉底", "气垫", "foundation", "cushion")
MASCARA = about("睫毛膏", "mascara")
SWATCHES = about("试色", "swatch", topics=("口红试色", "LipSwatches"))
WEST_LAKE = about("西湖", "west lake")
MOISTURISE = about("moisturiser", "moisturizer")
COLOUR = about("colour", "color")
FAVOURITE = about("favourite", "favorite")
COSY = about("cosy", "cozy", topics=("CosyHome",))
CANCELLING = about("noise-cancelling", "noise cancelling", "noise-canceling", "noise canceling")
VLOG = about("vlog", topics=("vlog",))
PHOTO = about("拍照", "照片", "photo")


# --- the classes ------------------------------------------------------------------------------------------

CLASSES: tuple[QueryClass, ...] = (
    QueryClass("zh_word", "Chinese words", "notes about the thing, Chinese and English ones alike"),
    QueryClass(
        "traditional",
        "Traditional Chinese",
        "the same notes as the Simplified word: 護膚 is 护肤, and 旅遊 means travel though notes say 旅行",
    ),
    QueryClass(
        "zh_synonym",
        "Chinese synonyms",
        "notes about the thing under the corpus's word: 旅游 finds 旅行 notes, 购物 finds 好物, "
        "唇膏 finds 口红",
    ),
    QueryClass(
        "cross_en",
        "English for Chinese things",
        "English and Chinese notes about it: hot pot finds 火锅, lipstick finds 口红",
    ),
    QueryClass(
        "zh_in_en",
        'Chinese query, language "en"',
        "English notes about it: a reader of English who typed in Chinese",
    ),
    QueryClass(
        "en_in_zh",
        'English query, language "zh"',
        "Chinese notes about it: a reader of Chinese who typed in English",
    ),
    QueryClass("typo", "English typos", "what the word meant: lipstik is lipstick, in both languages"),
    QueryClass("pinyin", "Pinyin", "the word the pinyin spells: kouhong is 口红, in both languages"),
    QueryClass("emoji", "Emoji", "notes about what the emoji shows: 💄 lipstick, ☕ coffee"),
    QueryClass(
        "generic",
        "Chinese word + generic word",
        "notes about the specific word; the generic one (推荐, 分享, 平价) may be missing from them",
    ),
    QueryClass(
        "spelling",
        "British/American spelling",
        "either spelling finds the notes using either: moisturizer finds the notes that say moisturiser",
    ),
    QueryClass(
        "kanji",
        "Japanese kanji",
        "the Chinese notes written with the standard form: 化粧水 is 化妆水, 読書 is 读书",
    ),
    QueryClass(
        "kana",
        "Japanese kana (judged separately)",
        "results about the word, or a clear refusal (an error saying kana is not understood); "
        "silent emptiness is the failure",
        separate=True,
    ),
    QueryClass("en_plain", "Plain English", "the corpus's own English words; Chinese notes on it count too"),
    QueryClass(
        "mixed", "Mixed Chinese + English", "notes about the thing both halves name, or the specific half"
    ),
    QueryClass("nonsense", "Nonsense and empty", "nothing at all, and at once"),
)
CLASS_BY_KEY = {c.key: c for c in CLASSES}


def _queries(kind: str, rows: list[tuple[str, Rule]], language: str | None = None) -> list[LabelledQuery]:
    return [LabelledQuery(text, kind, rule, language) for text, rule in rows]


QUERIES: tuple[LabelledQuery, ...] = (
    # The corpus's own Chinese words: the baseline every other class is measured against.
    *_queries(
        "zh_word",
        [
            ("口红", LIPSTICK),
            ("护肤", SKINCARE),
            ("防晒霜", SUNSCREEN),
            ("穿搭", FASHION),
            ("咖啡", COFFEE),
            ("火锅", HOTPOT),
            ("健身", FITNESS),
            ("猫", CAT),
            ("读书", BOOKS),
            ("数码", TECH),
            ("眼影", EYESHADOW),
            ("普拉提", PILATES),
            ("收纳", STORAGE),
            ("耳机", EARBUDS),
            ("面霜", MOISTURISER),
            ("西湖", WEST_LAKE),
        ],
    ),
    # Taiwan and Hong Kong users type Traditional characters; the index holds Simplified.
    *_queries(
        "traditional",
        [
            ("護膚", SKINCARE),
            ("旅遊", TRAVEL),
            ("口紅", LIPSTICK),
            ("防曬霜", SUNSCREEN),
            ("彩妝", MAKEUP),
            ("讀書", BOOKS),
            ("數碼", TECH),
            ("貓咪", CAT),
            ("火鍋", HOTPOT),
            ("眼影盤", EYESHADOW),
            ("收納", STORAGE),
            ("寵物", PETS),
            ("耳機", EARBUDS),
        ],
    ),
    # Everyday words for things the notes name differently.
    *_queries(
        "zh_synonym",
        [
            ("旅游", TRAVEL),
            ("购物", SHOPPING),
            ("美妆", MAKEUP),
            ("唇膏", LIPSTICK),
            ("洗面奶", CLEANSER),
            ("精华液", SERUM),
            ("粉底液", FOUNDATION),
            ("减肥", DIET),
            ("锻炼", FITNESS),
            ("宠物", PETS),
            ("游记", TRAVEL),
            ("咖啡店", COFFEE),
            ("书籍", BOOKS),
            ("运动", FITNESS),
        ],
    ),
    # English words for things most notes describe in Chinese.
    *_queries(
        "cross_en",
        [
            ("sunscreen", SUNSCREEN),
            ("hot pot", HOTPOT),
            ("coffee shop", COFFEE),
            ("lipstick", LIPSTICK),
            ("travel", TRAVEL),
            ("skincare", SKINCARE),
            ("cat", CAT),
            ("dumplings", DUMPLINGS),
            ("noodles", NOODLES),
            ("outfit", FASHION),
            ("makeup", MAKEUP),
            ("eyeshadow", EYESHADOW),
            ("running", RUNNING),
            ("headphones", EARBUDS),
        ],
    ),
    # The query's language differs from the filter's: only a concept layer can answer.
    *_queries(
        "zh_in_en",
        [
            ("口红", LIPSTICK),
            ("防晒", SUNSCREEN),
            ("护肤", SKINCARE),
            ("彩妆", MAKEUP),
            ("美食", FOOD),
            ("旅行", TRAVEL),
            ("穿搭", FASHION),
            ("猫", CAT),
            ("健身", FITNESS),
            ("读书", BOOKS),
            ("眼影", EYESHADOW),
            ("数码", TECH),
        ],
        language="en",
    ),
    *_queries(
        "en_in_zh",
        [
            ("lipstick", LIPSTICK),
            ("sunscreen", SUNSCREEN),
            ("skincare", SKINCARE),
            ("coffee", COFFEE),
            ("hot pot", HOTPOT),
            ("travel", TRAVEL),
            ("outfit", FASHION),
            ("cat", CAT),
            ("fitness", FITNESS),
            ("books", BOOKS),
            ("eyeshadow", EYESHADOW),
            ("makeup", MAKEUP),
        ],
        language="zh",
    ),
    # One slip of the finger: a letter missing, doubled or swapped.
    *_queries(
        "typo",
        [
            ("lipstik", LIPSTICK),
            ("sunscren", SUNSCREEN),
            ("moisturizr", MOISTURISER),
            ("skincre", SKINCARE),
            ("coffe", COFFEE),
            ("cheescake", CHEESECAKE),
            ("dumplngs", DUMPLINGS),
            ("mascarra", MASCARA),
            ("eyeshadw", EYESHADOW),
            ("pilatis", PILATES),
            ("keybaord", KEYBOARD),
            ("cardigen", CARDIGAN),
            ("sneekers", SNEAKERS),
            ("itinerery", ITINERARY),
        ],
    ),
    # Chinese typed without switching the keyboard to a Chinese input method.
    *_queries(
        "pinyin",
        [
            ("kouhong", LIPSTICK),
            ("kou hong", LIPSTICK),
            ("fangshai", SUNSCREEN),
            ("chuanda", FASHION),
            ("lvxing", TRAVEL),
            ("hufu", SKINCARE),
            ("kafei", COFFEE),
            ("huoguo", HOTPOT),
            ("jianshen", FITNESS),
            ("meishi", FOOD),
            ("dushu", BOOKS),
            ("caizhuang", MAKEUP),
            ("tandian", SHOP_VISIT),
        ],
    ),
    # A picture for a word; notes sprinkle ✨ and ☕️ as decoration, which is not what the query means.
    *_queries(
        "emoji",
        [
            ("💄", LIPSTICK),
            ("☕", COFFEE),
            ("✈️", TRAVEL),
            ("🍲", HOTPOT),
            ("🐱", CAT),
            ("🐶", DOG),
            ("📚", BOOKS),
            ("👗", FASHION),
            ("🏃", RUNNING),
            ("🏋️", FITNESS),
            ("🎧", EARBUDS),
            ("🏠", HOME),
            ("⌨️", KEYBOARD),
            ("🧴", SKINCARE),
        ],
    ),
    # A specific word plus a generic one (recommend, share, cheap, student): the specific word decides.
    *_queries(
        "generic",
        [
            ("防晒霜推荐", SUNSCREEN),
            ("平价好物", GOOD_FINDS),
            ("口红推荐", LIPSTICK),
            ("护肤分享", SKINCARE),
            ("咖啡探店", COFFEE),
            ("平价口红", LIPSTICK),
            ("好用的防晒", SUNSCREEN),
            ("穿搭分享", FASHION),
            ("健身打卡", FITNESS),
            ("学生党口红", LIPSTICK),
            ("火锅推荐", HOTPOT),
            ("眼影盘推荐", EYESHADOW),
            ("猫咪日常分享", CAT),
        ],
    ),
    # The corpus writes British English (moisturiser, colour, favourite, cosy, noise-cancelling); these rules
    # are about the English word alone, either spelling, so the class measures spelling and nothing else.
    *_queries(
        "spelling",
        [
            ("moisturizer", MOISTURISE),
            ("moisturiser", MOISTURISE),
            ("moisturizers", MOISTURISE),
            ("color", COLOUR),
            ("colour", COLOUR),
            ("colors", COLOUR),
            ("favorite", FAVOURITE),
            ("favourite", FAVOURITE),
            ("favorites", FAVOURITE),
            ("cozy", COSY),
            ("cosy", COSY),
            ("noise canceling", CANCELLING),
            ("noise cancelling", CANCELLING),
        ],
    ),
    # Japanese forms of characters Chinese writes differently (粧/妆, 読/读, 顔/颜), and Japanese words.
    *_queries(
        "kanji",
        [
            ("化粧水", TONER),
            ("化粧", MAKEUP),
            ("口紅", LIPSTICK),
            ("読書", BOOKS),
            ("珈琲", COFFEE),
            ("洗顔", CLEANSER),
            ("美容液", SERUM),
            ("旅行", TRAVEL),
            ("犬", DOG),
            ("写真", PHOTO),
        ],
    ),
    # No Chinese character at all: the index cannot know these words; answering or refusing both do.
    *_queries(
        "kana",
        [
            ("リップ", LIPSTICK),
            ("コーヒー", COFFEE),
            ("スキンケア", SKINCARE),
            ("メイク", MAKEUP),
            ("カフェ", COFFEE),
            ("ピラティス", PILATES),
            ("ねこ", CAT),
            ("りょこう", TRAVEL),
            ("ファッション", FASHION),
        ],
    ),
    # The English notes' own words: should already work today.
    *_queries(
        "en_plain",
        [
            ("cleansing balm", CLEANSING_BALM),
            ("trench coat", TRENCH),
            ("pour-over coffee", about("手冲", "pour-over", "pour over")),
            ("capsule wardrobe", CAPSULE),
            ("mechanical keyboard", KEYBOARD),
            ("golden retriever", GOLDEN),
            ("vitamin C serum", VITAMIN_C),
            ("soup dumplings", DUMPLINGS),
            ("home workout", HOME_WORKOUT),
            ("reading list", READING_LIST),
            ("room makeover", MAKEOVER),
            ("sensitive skin", SENSITIVE),
            ("storage boxes", STORAGE),
            ("eye cream", EYE_CREAM),
            ("wide-leg jeans", JEANS),
            ("West Lake", WEST_LAKE),
        ],
    ),
    # Both languages in one box, as bilingual users type; a brand the corpus lacks (Dior) must not
    # empty the list: the product word decides.
    *_queries(
        "mixed",
        [
            ("Dior 口红", LIPSTICK),
            ("matte lipstick 试色", LIPSTICK),
            ("口红 swatches", LIPSTICK),
            ("skincare 护肤", SKINCARE),
            ("coffee 探店", COFFEE),
            ("OOTD 穿搭", FASHION),
            ("citywalk 上海", CITYWALK),
            ("SPF 防晒", SUNSCREEN),
            ("vitamin C 精华", VITAMIN_C),
            ("HIIT 打卡", HIIT),
            ("pilates 普拉提", PILATES),
            ("iPad 平板", TABLET),
            ("vlog 日常", VLOG),
            ("hot pot 火锅", HOTPOT),
        ],
    ),
    # Keyboard mashing, words the world never uses, punctuation and blanks.
    *_queries(
        "nonsense",
        [
            ("zzzzqqq", NOTHING),
            ("不存在的词语", NOTHING),
            ("", NOTHING),
            ("   ", NOTHING),
            ("qxjvbwk", NOTHING),
            ("asdfghjkl", NOTHING),
            ("!!!", NOTHING),
            ("%'\"", NOTHING),
            ("火星土豆泥", NOTHING),
            ("量子纠缠", NOTHING),
            ("xkcd1234", NOTHING),
            ("😶", NOTHING),
        ],
    ),
)
