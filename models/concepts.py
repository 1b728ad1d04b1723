"""What search and the feed know about words beyond the text: topic families and the index's vocabulary."""

from tortoise import fields
from tortoise.models import Model


class TopicAlias(Model):
    """A topic name and the family it belongs to.

    Names of one family (健身, fitness, gym) mean one thing: search finds each by the others, and the feed
    counts them as one interest and one topic for diversity. The family is named by its key, the name the
    family is listed under. Admins edit them with vermilion topics alias and unalias."""

    id = fields.IntField(primary_key=True)
    # Normalised as a topic name (social.topics.normalize_topic_name), so it compares with topics directly.
    name = fields.CharField(max_length=64, unique=True)
    family = fields.CharField(max_length=64, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "topic_aliases"


class SearchTerm(Model):
    """A token of the search index and how many documents hold it.

    Refreshed from the index by a periodic job: the weight of a word in a query (rarer words say more) and
    the vocabulary typo and pinyin corrections choose from."""

    term = fields.CharField(max_length=128, primary_key=True)
    documents = fields.IntField()

    class Meta:
        table = "search_terms"
