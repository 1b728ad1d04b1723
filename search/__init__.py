"""Search: the text pipeline, the index and the ranking behind the `search` query."""
