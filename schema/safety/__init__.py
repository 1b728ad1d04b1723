"""GraphQL of trust and safety: blocks and mutes, filters, reports, moderation, appeals, your data."""
