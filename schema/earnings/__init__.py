"""Creators' earnings as the API shows them: balances, ledger entries, commissions a merchant owes."""
