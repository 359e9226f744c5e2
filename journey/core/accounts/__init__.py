"""Accounts, roles, tokens and the permission helper (foundation: no domain imports)."""
