"""The aftercare REST API."""

from __future__ import annotations

from journey.core.api import Blueprint

blp = Blueprint("aftercare", __name__, description="Aftercare follow-ups")
