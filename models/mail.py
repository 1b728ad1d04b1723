"""Email waiting to leave: written in the transaction that decides to send it, sent after the commit."""

from tortoise import fields
from tortoise.models import Model


class OutboxEmail(Model):
    """One message for the background sender (`social.mail`), kept after sending as a record."""

    id = fields.IntField(primary_key=True)
    to_address = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=200)
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    # When a sender may (next) try it; a sender claims a message by moving this past a lease, so several
    # workers never send it at the same time.
    next_attempt_at = fields.DatetimeField()
    attempts = fields.IntField(default=0)
    sent_at = fields.DatetimeField(null=True)
    # Set when the attempts ran out; the message stays for someone to look at.
    failed_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, default="")

    class Meta:
        table = "outbox_emails"
        indexes = (("sent_at", "failed_at", "next_attempt_at"),)
