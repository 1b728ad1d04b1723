"""Notifications for the demo accounts, derived from the engagement the seed wrote.

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
INSERT INTO notifications (recipient_id, actor_id, kind, note_id, comment_id, created_at)
SELECT recipient_id, actor_id, kind, note_id, comment_id, created_at FROM (
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
ORDER BY created_at, kind, actor_id
"""


async def write_demo_notifications(connection: BaseDBAsyncClient) -> int:
    """Insert the demo accounts' notifications, oldest first (ids grow with time); returns how many."""
    handles = [account.handle for account in DEMO_ACCOUNTS]
    ids = [user.id for user in await User.filter(handle__in=handles).using_db(connection)]
    if not ids:
        return 0
    await connection.execute_query(_DERIVE.format(ids=", ".join(str(int(i)) for i in ids)))
    rows = await connection.execute_query_dict("SELECT COUNT(*) AS n FROM notifications")
    return int(rows[0]["n"])
