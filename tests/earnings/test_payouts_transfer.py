"""Payouts sent as Stripe Connect transfers (`vermilion payouts transfer`), against a fake `Transfers` door:
localstripe has no Connect accounts or transfers, so `StripePayments.transfer` itself is not exercised in
tests. What is tested here is everything around it: the claim that keeps an admin from marking the payout
paid or cancelling it while the transfer is on its way, one idempotency key per payout (a retry after a
provider error sends the same transfer), and the ledger moving once."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from commerce.payments import PaymentProviderError, TransferResult
from commerce.payouts import cancel_payout, mark_paid, request_payout, transfer_payout
from core.errors import DomainError, ErrorCode
from models import EarningEntry, Payout, PayoutStatus, User
from tests.conftest import GraphQLClient
from tests.earnings.test_payouts import _released
from tests.earnings.world import paying_world
from tests.shop import pk

pytestmark = [pytest.mark.usefixtures("ledger_agrees"), pytest.mark.timeout(180)]


@dataclass
class FakeTransfers:
    """Stripe's transfers as the rules see them: the same idempotency key gives the same transfer."""

    fail: list[PaymentProviderError] = field(default_factory=list)
    sent: dict[str, TransferResult] = field(default_factory=dict)
    calls: list[dict[str, object]] = field(default_factory=list)

    async def transfer(
        self, *, amount: int, currency: str, destination: str, metadata: dict[str, str], idempotency_key: str
    ) -> TransferResult:
        self.calls.append(
            {"amount": amount, "currency": currency, "destination": destination, "key": idempotency_key}
        )
        if self.fail:
            raise self.fail.pop(0)
        if idempotency_key not in self.sent:
            self.sent[idempotency_key] = TransferResult(
                f"tr_fake_{len(self.sent) + 1}", amount, currency, destination
            )
        return self.sent[idempotency_key]


async def test_a_transfer_pays_the_payout_once_and_blocks_other_steps_meanwhile(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop, stock=30)
    amount = await _released(shop, stripe_base, w)
    creator_id = pk(w.creator["user"]["id"])
    payout = await request_payout(creator_id=creator_id, currency="CNY")
    transfers = FakeTransfers(fail=[PaymentProviderError("Stripe is down", retryable=True)])

    # Not configured; no connected account: refused, nothing sent.
    with pytest.raises(DomainError) as off:
        await transfer_payout(payout_id=payout.id, transfers=None)
    assert off.value.code is ErrorCode.PAYMENTS_NOT_CONFIGURED
    with pytest.raises(DomainError) as no_account:
        await transfer_payout(payout_id=payout.id, transfers=transfers)
    assert no_account.value.code is ErrorCode.INVALID and transfers.calls == []
    await User.filter(id=creator_id).update(stripe_account_id="acct_demo_creator")

    # Stripe fails once: the payout stays claimed; nobody may mark it paid or cancel it meanwhile.
    with pytest.raises(PaymentProviderError):
        await transfer_payout(payout_id=payout.id, transfers=transfers)
    for step in (cancel_payout(payout_id=payout.id), mark_paid(payout_id=payout.id, reference="by hand")):
        with pytest.raises(DomainError) as blocked:
            await step
        assert blocked.value.code is ErrorCode.INVALID_TRANSITION and "transfer" in blocked.value.message

    # The retry sends the same transfer (same key) and pays the payout; again, nothing more.
    done = await transfer_payout(payout_id=payout.id, transfers=transfers)
    assert done.changed and done.payout.status is PayoutStatus.PAID
    assert (done.payout.stripe_transfer_id, done.payout.reference) == ("tr_fake_1", "tr_fake_1")
    again = await transfer_payout(payout_id=payout.id, transfers=transfers)
    assert not again.changed
    assert [c["key"] for c in transfers.calls] == [f"vermilion-payout-{payout.id}"] * 2
    assert transfers.calls[0] == {
        "amount": amount,
        "currency": "CNY",
        "destination": "acct_demo_creator",
        "key": f"vermilion-payout-{payout.id}",
    }
    assert len(transfers.sent) == 1
    assert await EarningEntry.filter(payout_id=payout.id, kind="PAYOUT_PAID").count() == 1


async def test_a_transfer_refused_for_good_lets_the_admin_cancel(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop, stock=30)
    await _released(shop, stripe_base, w)
    creator_id = pk(w.creator["user"]["id"])
    await User.filter(id=creator_id).update(stripe_account_id="acct_closed")
    payout = await request_payout(creator_id=creator_id, currency="CNY")
    transfers = FakeTransfers(fail=[PaymentProviderError("No such destination", retryable=False)])

    with pytest.raises(PaymentProviderError):
        await transfer_payout(payout_id=payout.id, transfers=transfers)
    assert (await Payout.get(id=payout.id)).stripe_transfer_id is None
    cancelled = await cancel_payout(payout_id=payout.id)
    assert cancelled.changed and cancelled.payout.status is PayoutStatus.CANCELLED
    with pytest.raises(DomainError) as settled:
        await transfer_payout(payout_id=payout.id, transfers=transfers)
    assert settled.value.code is ErrorCode.INVALID_TRANSITION
