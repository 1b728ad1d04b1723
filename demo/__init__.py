"""A deterministic, bilingual demo world for Vermilion: people, notes, products and engagement.

`seed_database` fills an empty database; `counter_mismatches` checks every denormalised counter.
"""

from demo.seed import SeedSummary, database_is_empty, seed_database
from social.counters import counter_mismatches

__all__ = ["SeedSummary", "counter_mismatches", "database_is_empty", "seed_database"]
