"""Trust and safety: blocks and mutes, keyword filters, reports and moderation, appeals, and leaving with
one's data. The visibility rules themselves live in `social.policy`; this package holds what feeds them."""
