"""Languages: choosing the request's locale and picking member content per language.

Interface strings go through Babel catalogs (``translations/``). Member content is
stored per language; :func:`fallback_chain` gives the order in which a text is looked
for: the requested language, its base language, the other languages the reader reads
(their ``Accept-Language``, in its order), English, then the member's default. A
Norwegian reader never gets Lithuanian while an English text exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from babel import Locale, UnknownLocaleError
from flask import current_app, g, has_request_context, request, session

FALLBACK_LANGUAGE = "en"


def normalize_language(value: str | None) -> str | None:
    """``'pt-BR'`` -> ``'pt_BR'``; ``None`` for anything Babel does not know."""
    if not value:
        return None
    value = value.strip().replace("-", "_")
    if not value or len(value) > 20:
        return None
    try:
        locale = Locale.parse(value)
    except (ValueError, UnknownLocaleError, TypeError):
        return None
    return str(locale)


def base_language(language: str) -> str:
    return language.split("_", 1)[0]


def reader_languages() -> list[str]:
    """The languages this request's reader reads, best first (``Accept-Language``, each
    followed by its base language); none outside a request."""
    if not has_request_context():
        return []
    found: list[str] = []
    for value, _quality in request.accept_languages:
        language = normalize_language(value) if value != "*" else None
        for candidate in (language, language and base_language(language)):
            if candidate and candidate not in found:
                found.append(candidate)
    return found[:10]


def fallback_chain(requested: str | None, member_default: str | None = None,
                   readers: Iterable[str] | None = None) -> list[str]:
    """The languages to try, best first, without repeats: ``requested``, its base
    language, the ``readers`` languages (by default the request's), English, and the
    member's default last."""
    chain: list[str] = []
    others = reader_languages() if readers is None else list(readers)
    for candidate in (requested, requested and base_language(requested), *others,
                      FALLBACK_LANGUAGE, member_default):
        if candidate and candidate not in chain:
            chain.append(candidate)
    return chain


def pick(texts: Mapping[str, object], chain: Iterable[str]):
    """The first of ``texts`` (keyed by language) along ``chain``; else any text, or None.

    Returns ``(language, text)`` so a caller can tell the reader which language it got.
    """
    for language in chain:
        if language in texts:
            return language, texts[language]
    if texts:
        language = sorted(texts)[0]
        return language, texts[language]
    return None, None


def interface_languages() -> list[str]:
    """The languages the cluster offers its interface in: what an admin chose among
    the ones the project has catalogs for (all of them until one chooses). The app
    wires the reader in (``app.extensions["cluster_languages"]``), since this module
    imports no domain code; it is read once per request."""
    configured = list(current_app.config["LANGUAGES"])
    if not has_request_context():
        return configured
    if "_languages" not in g:
        reader = current_app.extensions.get("cluster_languages")
        chosen = reader() if reader is not None else None
        g._languages = [code for code in configured if code in chosen] if chosen \
            else configured
    return g._languages


def select_locale() -> str:
    """The interface language of this request.

    Order: ``?lang=``, the logged-in user's profile, the language picked with the
    page's switcher this session, ``Accept-Language``, the default. Only the cluster's
    configured languages are interface languages.
    """
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    cached = g.get("_locale")
    if cached:
        return cached
    supported = interface_languages()
    chosen = None
    asked = normalize_language(request.args.get("lang"))
    if asked:
        chosen = _supported(asked, supported)
    if chosen is None:
        user = g.get("actor")
        profile = getattr(user, "locale", None) if user is not None else None
        if profile:
            chosen = _supported(profile, supported)
    if chosen is None and session.get("lang"):
        chosen = _supported(str(session["lang"]), supported)
    if chosen is None:
        chosen = request.accept_languages.best_match(supported)
    g._locale = chosen or current_app.config["BABEL_DEFAULT_LOCALE"]
    return g._locale


def content_language() -> str:
    """The language asked for member content, which may be any language a member
    writes in, not only an interface language: ``?lang=``, the profile, then the
    first ``Accept-Language`` entry that names a real language."""
    if has_request_context():
        asked = normalize_language(request.args.get("lang"))
        if asked:
            return asked
        user = g.get("actor")
        if user is not None and getattr(user, "locale", None):
            return user.locale
        picked = normalize_language(session.get("lang"))
        if picked:
            return picked
        for value, _quality in request.accept_languages:
            language = normalize_language(value)
            if language:
                return language
    return select_locale()


def _supported(language: str, supported: list[str]) -> str | None:
    if language in supported:
        return language
    base = base_language(language)
    return base if base in supported else None
