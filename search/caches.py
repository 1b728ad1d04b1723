"""What each process keeps of the database for search, and how to forget it at once."""

from search.families import families
from search.suggest import vocabulary
from search.terms import term_counts


def forget_search_caches() -> None:
    """Read the families, the vocabulary's counts and the correction vocabulary again on next use (after
    the database was emptied or replaced: tests, `vermilion seed --reset`)."""
    families.invalidate()
    term_counts.invalidate()
    vocabulary.invalidate()
