"""Models of invoicing (see the package)."""

from __future__ import annotations
