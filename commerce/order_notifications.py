"""Who is told when an order moves: called inside the transaction of the move itself, only by the request
that performed it (the `move_*` helpers answer True to exactly one), so each event notifies once.

- paid: the buyer (ORDER_PAID, the shops it was bought from as its people), each merchant of its lines
  (SALE, the buyer as actor), and each creator whose note a line was bought from (NOTE_SALE, the shop that
  sold it as actor: who bought stays private);
- fulfilled: the buyer (ORDER_FULFILLED, the merchant as actor);
- refunded, in part or in full: the buyer (ORDER_REFUNDED, one entry per refund, the merchant — or, for a
  refund made outside Vermilion, the order's shops — as actor).

Every entry has someone in it, so `Notification.actor` stays non-null for clients built before order
events existed.

Guest orders have no buyer to tell. Nobody is told of their own action (`notify`), nor is a creator told
of a sale of their own product twice (SALE already says so), nor of their own purchase.
"""

from __future__ import annotations

from models import Note, NotificationKind, Order, OrderLine
from social.notifications import notify

K = NotificationKind


async def notify_paid(order: Order) -> None:
    buyer_id: int | None = order.buyer_id  # type: ignore[attr-defined]
    lines = await OrderLine.filter(order_id=order.id).values_list("merchant_id", "source_note_id")
    merchants = {int(m) for m, _ in lines}
    if buyer_id is not None:
        for merchant_id in sorted(merchants):
            await notify(recipient_id=buyer_id, actor_id=merchant_id, kind=K.ORDER_PAID, order_id=order.id)
    for merchant_id in sorted(merchants):
        await notify(recipient_id=merchant_id, actor_id=buyer_id, kind=K.SALE, order_id=order.id)
    note_ids = sorted({int(n) for _, n in lines if n is not None})
    authors = dict(await Note.filter(id__in=note_ids).values_list("id", "author_id")) if note_ids else {}
    for note_id in note_ids:
        creator_id = int(authors[note_id]) if note_id in authors else None
        sellers = {int(m) for m, n in lines if n == note_id}
        if creator_id is None or creator_id == buyer_id or creator_id in sellers:
            continue
        for seller_id in sorted(sellers):
            await notify(
                recipient_id=creator_id,
                actor_id=seller_id,
                kind=K.NOTE_SALE,
                note_id=note_id,
                order_id=order.id,
                detail=f"note:{note_id}",
            )


async def notify_fulfilled(order: Order, merchant_id: int) -> None:
    buyer_id: int | None = order.buyer_id  # type: ignore[attr-defined]
    if buyer_id is not None:
        await notify(recipient_id=buyer_id, actor_id=merchant_id, kind=K.ORDER_FULFILLED, order_id=order.id)


async def notify_refunded(order: Order, *, merchant_id: int | None, reference: str) -> None:
    """`reference` names the refund (Stripe's id): every refund of an order is an entry of its own."""
    buyer_id: int | None = order.buyer_id  # type: ignore[attr-defined]
    if buyer_id is None:
        return
    if merchant_id is not None:
        actors = [merchant_id]
    else:  # refunded outside Vermilion (Stripe's dashboard): the shops the order was bought from
        merchants = await OrderLine.filter(order_id=order.id).values_list("merchant_id", flat=True)
        actors = sorted({int(str(m)) for m in merchants})
    for actor_id in actors:
        await notify(
            recipient_id=buyer_id,
            actor_id=actor_id,
            kind=K.ORDER_REFUNDED,
            order_id=order.id,
            detail=reference[:64],
        )
