"""The ledger: double-entry mutual-credit accounts, transfers and entries.

The models arrive with the ledger work; this app exists now so the dependency
direction (listings -> ledger -> accounts) is fixed from the start.
"""
