"""Pictures: a photo of a member (its profile) or of one of its offers, in two sizes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from journey.core.extensions import db
from journey.core.types import UTCDateTime, utcnow
from providers.models import Offer, Provider


class Picture(db.Model):
    """One picture. It always belongs to a member (``provider_id``); with an ``offer_id``
    it shows that offer, without one the member itself (its profile).

    The bytes live in the file storage (:mod:`journey.core.storage`) under two opaque
    keys: a thumbnail and a large size, both re-encoded without any metadata. ``alt_texts``
    holds the text alternative per language (``{"en": "...", "lt": "..."}``)."""

    __tablename__ = "picture"
    __table_args__ = (
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint("width > 0 AND height > 0 AND thumb_width > 0 AND thumb_height > 0",
                        name="sizes_positive"),
        Index("ix_picture_owner", "provider_id", "offer_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"),
                                                 index=True)
    position: Mapped[int] = mapped_column(default=0)
    #: The sniffed type of what is stored (both sizes): image/webp or image/jpeg.
    mime_type: Mapped[str] = mapped_column(String(40))
    large_key: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    thumb_key: Mapped[str] = mapped_column(String(64))
    thumb_width: Mapped[int] = mapped_column()
    thumb_height: Mapped[int] = mapped_column()
    alt_texts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    provider: Mapped[Provider] = relationship()
    offer: Mapped[Offer | None] = relationship()
