"""A label named on every row of an answer is translated once per request and
language, and a mail written meanwhile in another language gets its own words."""

from __future__ import annotations

from flask_babel import force_locale

from journey.core.i18n import translated
from providers.models import CHAIN_LINK_TITLES, ChainLink


def test_a_label_is_translated_once_per_request_and_language(app, monkeypatch):
    label = CHAIN_LINK_TITLES[ChainLink.ACCOMMODATION]
    asked = []
    real = type(label).__str__

    def counted(self):
        asked.append(self)
        return real(self)

    monkeypatch.setattr(type(label), "__str__", counted)
    with app.test_request_context("/?lang=nb"):
        norwegian = [translated(label) for _ in range(20)]
        assert len(set(norwegian)) == 1 and len(asked) == 1
        with force_locale("de"):
            german = translated(label)
        assert german != norwegian[0] and translated(label) == norwegian[0]
        assert len(asked) == 2
    with app.test_request_context("/?lang=en"):
        assert translated(label) == real(label)
