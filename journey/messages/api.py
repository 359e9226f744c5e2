"""The messages REST API."""

from __future__ import annotations

from journey.core.api import Blueprint

blp = Blueprint("messages", __name__, description="Messages per journey")
