"""Which of a member's offers lack a translation: per offer and language (the cluster's
interface languages), whether the offer has a title and a description in it, and per
language how many offers lack one. Read in two statements (the offers, then the texts'
languages with whether each has a description), whatever the number of offers."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from journey.core.extensions import db
from providers.models import Offer, OfferText, Provider
from providers.services.common import text_in
from providers.services.members import get_member_for_change


class TextState(enum.StrEnum):
    COMPLETE = "complete"  # a title and a description
    NO_DESCRIPTION = "no_description"  # a title only
    MISSING = "missing"  # no text in this language

    @property
    def lacking(self) -> bool:
        return self is not TextState.COMPLETE


@dataclass
class OfferTranslations:
    """One offer's row: its title in the reader's language (and the language that title
    is in), and the state of its text in each language asked about."""

    offer: Offer
    title: str
    title_language: str | None
    states: dict[str, TextState]

    @property
    def lacking(self) -> list[str]:
        return [language for language, state in self.states.items() if state.lacking]


@dataclass
class TranslationTable:
    provider: Provider
    languages: list[str]
    rows: list[OfferTranslations] = field(default_factory=list)

    @property
    def lacking(self) -> dict[str, int]:
        """Per language, how many offers lack a title or a description in it."""
        return {language: sum(1 for row in self.rows if row.states[language].lacking)
                for language in self.languages}

    @property
    def complete(self) -> bool:
        return not any(self.lacking.values())


def translation_table(actor, provider_id: int, languages: Iterable[str], *,
                      reader_language: str | None = None) -> TranslationTable:
    """The translations of the member's offers into ``languages``, for its own staff
    and the cluster (404/403 for anyone else, as for changing the member's offers).
    Titles are shown in ``reader_language`` along the fallback chain."""
    provider = get_member_for_change(actor, provider_id)
    wanted = list(dict.fromkeys(languages))
    offers = list(db.session.scalars(
        select(Offer).where(Offer.provider_id == provider.id)
        .order_by(Offer.chain_link, Offer.id)))
    has_description = func.length(func.trim(func.coalesce(OfferText.description, ""))) > 0
    texts: dict[int, dict[str, tuple[str, bool]]] = {}
    for row in db.session.execute(
            select(OfferText.offer_id, OfferText.language, OfferText.title,
                   has_description.label("has_description"))
            .join(Offer, Offer.id == OfferText.offer_id)
            .where(Offer.provider_id == provider.id)):
        texts.setdefault(row.offer_id, {})[row.language] = (row.title, bool(row.has_description))
    table = TranslationTable(provider, wanted)
    for offer in offers:
        found = texts.get(offer.id, {})
        title_language, title = text_in({language: title for language, (title, _d)
                                         in found.items()}, reader_language, provider)
        table.rows.append(OfferTranslations(
            offer, title or f"#{offer.id}", title_language,
            {language: _state(found.get(language)) for language in wanted}))
    return table


def _state(text: tuple[str, bool] | None) -> TextState:
    if text is None or not (text[0] or "").strip():
        return TextState.MISSING
    return TextState.COMPLETE if text[1] else TextState.NO_DESCRIPTION
