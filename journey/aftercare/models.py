"""Models of aftercare (see the package)."""

from __future__ import annotations
