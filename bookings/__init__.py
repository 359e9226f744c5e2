"""The multi-member booking engine (holds, checkout saga, payments, settlement)."""
