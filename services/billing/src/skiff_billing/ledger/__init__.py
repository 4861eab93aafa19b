"""Credit accounts and the ledger."""
