"""Search: the text pipeline, the index and the ranking behind the `search` query."""

import sys

# jieba (search/text.py, search/dictionary.py) opens its data files through pkg_resources when it can
# import it, and from its package directory otherwise (jieba/_compat.py): the same files. pkg_resources
# costs every worker about 5 MB and 70 ms at start-up, and nothing else here needs it, so jieba is
# imported first, here, with it out of reach.
if "jieba" not in sys.modules and "pkg_resources" not in sys.modules:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes `import pkg_resources` fail
    try:
        import jieba  # noqa: F401
    finally:
        del sys.modules["pkg_resources"]
