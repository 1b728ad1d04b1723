"""Notifications for the demo accounts, derived from the engagement the seed wrote, grouped as
`social.notifications.notify` groups them (the demo creator sees one entry per liked note, not one per like).

Only the documented demo accounts get an inbox: a notification for every like of a 10,000-person world
would double the seed for nothing anyone looks at. The rules match social.notifications: nobody is
notified of their own actions, and a reply notifies the replied-to author (REPLY) rather than the
note's author when they are the same person.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from demo.population import DEMO_ACCOUNTS
from models import User

_DERIVE = """
CREATE TEMPORARY TABLE demo_notification_activities AS
SELECT recipient_id, actor_id, kind, note_id, comment_id, created_at, CASE
         WHEN kind IN ('LIKE', 'COLLECT') THEN kind || ':note:' || note_id
         WHEN kind = 'FOLLOW' THEN 'FOLLOW:user:' || actor_id
         ELSE kind || ':comment:' || comment_id END AS group_key FROM (
  SELECT n.author_id AS recipient_id, l.user_id AS actor_id, 'LIKE' AS kind, l.note_id AS note_id,
         CAST(NULL AS INTEGER) AS comment_id, l.created_at AS created_at
    FROM likes l JOIN notes n ON n.id = l.note_id
   WHERE n.author_id IN ({ids}) AND l.user_id <> n.author_id AND n.deleted_at IS NULL
  UNION ALL
  SELECT n.author_id, k.user_id, 'COLLECT', k.note_id, CAST(NULL AS INTEGER), k.created_at
    FROM collects k JOIN notes n ON n.id = k.note_id
   WHERE n.author_id IN ({ids}) AND k.user_id <> n.author_id AND n.deleted_at IS NULL
  UNION ALL
  SELECT f.followee_id, f.follower_id, 'FOLLOW', CAST(NULL AS INTEGER), CAST(NULL AS INTEGER), f.created_at
    FROM follows f WHERE f.followee_id IN ({ids})
  UNION ALL
  SELECT n.author_id, c.author_id, 'COMMENT', c.note_id, c.id, c.created_at
    FROM comments c JOIN notes n ON n.id = c.note_id
   WHERE n.author_id IN ({ids}) AND c.author_id <> n.author_id AND c.deleted_at IS NULL
     AND n.deleted_at IS NULL
     AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.id = c.reply_to_id AND r.author_id = n.author_id)
  UNION ALL
  SELECT r.author_id, c.author_id, 'REPLY', c.note_id, c.id, c.created_at
    FROM comments c JOIN comments r ON r.id = c.reply_to_id JOIN notes n ON n.id = c.note_id
   WHERE r.author_id IN ({ids}) AND c.author_id <> r.author_id AND c.deleted_at IS NULL
     AND n.deleted_at IS NULL
) derived
"""

# social.notifications.group_key's grouping, in bulk: one entry per key (ids in the order of first
# activity), one activity per person, then each entry's count, latest actor and position.
_GROUP = [
    "INSERT INTO notifications (recipient_id, group_key, kind, note_id, comment_id, actor_count, position,"
    " created_at, updated_at)"
    " SELECT recipient_id, group_key, MAX(kind), MAX(note_id), MAX(comment_id), 0, 0, MIN(created_at),"
    " MAX(created_at) FROM demo_notification_activities GROUP BY recipient_id, group_key"
    " ORDER BY MIN(created_at), recipient_id, group_key",
    "INSERT INTO notification_activities (notification_id, actor_id, created_at)"
    " SELECT n.id, d.actor_id, d.created_at FROM demo_notification_activities d"
    " JOIN notifications n ON n.recipient_id = d.recipient_id AND n.group_key = d.group_key"
    " ORDER BY d.created_at, n.id, d.actor_id",
    "UPDATE notifications SET"
    " actor_count = (SELECT COUNT(*) FROM notification_activities a"
    " WHERE a.notification_id = notifications.id),"
    " position = (SELECT MAX(a.id) FROM notification_activities a"
    " WHERE a.notification_id = notifications.id),"
    " actor_id = (SELECT a.actor_id FROM notification_activities a WHERE a.notification_id = notifications.id"
    " ORDER BY a.id DESC LIMIT 1)",
    "DROP TABLE demo_notification_activities",
]


async def write_demo_notifications(connection: BaseDBAsyncClient) -> int:
    """Insert the demo accounts' notification entries and their activities (ids grow with time); returns
    how many entries."""
    handles = [account.handle for account in DEMO_ACCOUNTS]
    ids = [user.id for user in await User.filter(handle__in=handles).using_db(connection)]
    if not ids:
        return 0
    await connection.execute_query(_DERIVE.format(ids=", ".join(str(int(i)) for i in ids)))
    for statement in _GROUP:
        await connection.execute_query(statement)
    rows = await connection.execute_query_dict("SELECT COUNT(*) AS n FROM notifications")
    return int(rows[0]["n"])
