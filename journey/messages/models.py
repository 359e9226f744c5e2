"""Models of messages (see the package)."""

from __future__ import annotations
