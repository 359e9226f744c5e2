"""Pages: aftercare."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("aftercare_pages", __name__)
