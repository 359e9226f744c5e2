"""Languages: choosing the request's locale and picking member content per language.

Interface strings go through Babel catalogs (``translations/``). Member content is
stored per language; :func:`fallback_chain` gives the order in which a text is looked
for: the requested language, its base language, the other languages the reader reads
(first the list on their profile, in its order, then their ``Accept-Language``),
English, then the member's default. A Norwegian reader never gets Lithuanian while an
English text exists.

What was actually served is noted per request (:func:`pick` notes it when the text was
looked up for this request's reader) so that the ``Content-Language`` header can say
it (:func:`served_languages`, :func:`content_language_header`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from babel import Locale, UnknownLocaleError
from flask import current_app, g, has_request_context, request, session
from flask_babel import get_locale

FALLBACK_LANGUAGE = "en"
#: How many other languages a profile may list.
MAX_OTHER_LANGUAGES = 10


def normalize_language(value: str | None) -> str | None:
    """``'pt-BR'`` -> ``'pt_BR'``, ``'no-NO'`` -> ``'no'`` (a region Babel has no data
    for); ``None`` for anything Babel does not know."""
    if not value:
        return None
    value = value.strip().replace("-", "_")
    if not value or len(value) > 20:
        return None
    try:
        locale = Locale.parse(value)
    except (ValueError, UnknownLocaleError, TypeError):
        # a region Babel has no data for (``no-NO``): the language itself
        language = value.split("_", 1)[0]
        if language == value:
            return None
        try:
            locale = Locale.parse(language)
        except (ValueError, UnknownLocaleError, TypeError):
            return None
    return str(locale)


def native_name(language: str) -> str:
    """A language named in itself, as a list of languages shows it ("Norsk bokmål",
    "Lietuvių", "العربية"); the code when Babel does not know it."""
    try:
        name = Locale.parse(language).get_display_name(language)
    except (ValueError, UnknownLocaleError, TypeError):
        return language
    return name[:1].upper() + name[1:] if name else language


def base_language(language: str) -> str:
    return language.split("_", 1)[0]


#: Languages whose readers read another one best when theirs is missing: Norwegian as
#: ``no`` (what many Norwegian systems send) and Nynorsk readers get Bokmål.
CLOSEST = {"no": "nb", "nn": "nb"}


def _kin(language: str | None) -> tuple[str | None, ...]:
    """``language``, its base language and the language closest to that."""
    if not language:
        return ()
    base = base_language(language)
    return language, base, CLOSEST.get(base)


def _with_bases(languages: Iterable[str | None], found: list[str]) -> None:
    for language in languages:
        for candidate in _kin(language):
            if candidate and candidate not in found:
                found.append(candidate)


def profile_languages(user=None) -> list[str]:
    """The other languages on the profile of ``user`` (by default this request's
    reader), in their order; [] for none or outside a request."""
    if user is None and has_request_context():
        user = g.get("actor")
    listed = getattr(user, "other_languages", None) if user is not None else None
    return [code for code in (listed or []) if isinstance(code, str) and code]


def accepted_languages() -> list[str]:
    """The request's ``Accept-Language`` languages, in its order (no wildcard)."""
    if not has_request_context():
        return []
    return [language for language in (normalize_language(value) if value != "*" else None
                                      for value, _quality in request.accept_languages)
            if language]


def reader_languages(user=None) -> list[str]:
    """The other languages this request's reader reads, best first: the list on their
    profile in its order, then their ``Accept-Language``; each followed by its base
    language. None outside a request."""
    if not has_request_context() and user is None:
        return []
    found: list[str] = []
    _with_bases(profile_languages(user), found)
    _with_bases(accepted_languages(), found)
    return found[:2 * MAX_OTHER_LANGUAGES]


def clean_languages(values: Iterable[str | None] | None) -> tuple[list[str], list[str]]:
    """``values`` as a profile's list of other languages: normalised, without repeats,
    in their order. Returns ``(languages, unknown)``: what Babel does not know goes
    in ``unknown`` (the caller refuses it and says which)."""
    languages: list[str] = []
    unknown: list[str] = []
    for value in values or []:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        language = normalize_language(value) if isinstance(value, str) else None
        if language is None:
            unknown.append(str(value))
        elif language not in languages:
            languages.append(language)
    return languages, unknown


def fallback_chain(requested: str | None, member_default: str | None = None,
                   readers: Iterable[str] | None = None) -> list[str]:
    """The languages to try, best first, without repeats: ``requested``, its base
    language, the ``readers`` languages (by default the request's), English, and the
    member's default last."""
    chain: list[str] = []
    others = reader_languages() if readers is None else list(readers)
    for candidate in (*_kin(requested), *others, FALLBACK_LANGUAGE, member_default):
        if candidate and candidate not in chain:
            chain.append(candidate)
    return chain


def pick(texts: Mapping[str, object], chain: Iterable[str]):
    """The first of ``texts`` (keyed by language) along ``chain``; else any text, or None.

    Returns ``(language, text)`` so a caller can tell the reader which language it got.
    In a request, a text looked up for this request's reader (``chain`` starts with
    :func:`content_language`) is noted as served (:func:`served_languages`).
    """
    chain = list(chain)
    found = None, None
    for language in chain:
        if language in texts:
            found = language, texts[language]
            break
    else:
        if texts:
            language = sorted(texts)[0]
            found = language, texts[language]
    if found[0] is not None:
        note_served_along(chain, found[0])
    return found


def note_served_along(chain: list[str], language: str) -> None:
    """Note that member content in ``language``, found along ``chain``, is on this
    request's response, when the chain is the one of this request's reader (it starts
    with :func:`content_language`)."""
    if chain and has_request_context() and chain[0] == _asked_language():
        note_served(language)


def _asked_language() -> str:
    if "_asked_language" not in g:
        g._asked_language = content_language()
    return g._asked_language


def note_served(language: str | None) -> None:
    """Note that member content in ``language`` is on this request's response."""
    if not language or not has_request_context() or g.get("_not_on_the_answer"):
        return
    served = g.setdefault("_served_languages", [])
    if language not in served:
        served.append(language)


@contextmanager
def not_on_the_answer() -> Iterator[None]:
    """Texts picked inside are for something this request writes besides its answer (a
    document in the patient's language): not noted as served on the answer."""
    if not has_request_context():
        yield
        return
    before = g.get("_not_on_the_answer", False)
    g._not_on_the_answer = True
    try:
        yield
    finally:
        g._not_on_the_answer = before


def served_languages() -> list[str]:
    """The languages of the member content this request served, in the order met."""
    return list(g.get("_served_languages", [])) if has_request_context() else []


def content_language_header(*, page: bool) -> str:
    """The ``Content-Language`` of this request's response, what it actually holds:
    for a page, its interface language, then the languages member content came in;
    for the API, the languages member content came in, else its interface language.
    Tags as BCP 47 writes them (``pt-BR``), comma-separated (``nb, en``)."""
    first = g.get("content_language") or (select_locale() if page else None)
    languages: list[str] = [first] if first else []
    for language in served_languages():
        if language not in languages:
            languages.append(language)
    if not languages:
        # no member content: what the answer holds is interface text (messages, titles)
        languages.append(select_locale())
    return ", ".join(language.replace("_", "-") for language in languages)


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
        profile = _profile_locale()
        if profile:
            chosen = _supported(profile, supported)
    if chosen is None and session.get("lang"):
        chosen = _supported(str(session["lang"]), supported)
    if chosen is None:
        chosen = next((found for value, _quality in request.accept_languages
                       if value != "*" and (language := normalize_language(value))
                       and (found := _supported(language, supported))), None)
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
        profile = _profile_locale()
        if profile:
            return profile
        picked = normalize_language(session.get("lang"))
        if picked:
            return picked
        for value, _quality in request.accept_languages:
            language = normalize_language(value)
            if language:
                return language
    return select_locale()


def _profile_locale() -> str | None:
    """The language on the reader's profile: as the request edge read it when it
    identified them (``g.actor_locale``), else from the account itself."""
    if "actor_locale" in g:
        return g.actor_locale
    user = g.get("actor")
    return getattr(user, "locale", None) if user is not None else None


def _supported(language: str, supported: list[str]) -> str | None:
    """``language`` as an interface language: itself, its base language or the
    language closest to it (:data:`CLOSEST`), if the cluster offers one of them."""
    return next((candidate for candidate in _kin(language)
                 if candidate and candidate in supported), None)


def translated(label) -> str:
    """``str(label)`` of a lazily translated label (a title of a chain link, a
    procedure), once per request and label: a page or an answer that names the same
    label for each of its rows asks the catalogs once."""
    if not has_request_context():
        return str(label)
    memo = g.get("_translated")
    if memo is None:
        memo = g._translated = {}
    key = (id(label), str(get_locale()))  # a mail in another language has its own
    if key not in memo:
        memo[key] = (label, str(label))  # the label is kept so that its id stays its own
    return memo[key][1]


def text_direction(text: object) -> str:
    """The direction of a text as HTML's ``dir="auto"`` finds it, by its first strong
    character: ``"rtl"`` (Hebrew, Arabic), ``"ltr"`` (any other script), ``"auto"`` when
    it has none (digits, signs). For the printed documents: WeasyPrint knows no
    ``dir="auto"``, so a Latin place on an Arabic page took the page's direction and,
    wrapped, put its arrow or comma at the wrong end of the line."""
    for character in str(text or ""):
        kind = unicodedata.bidirectional(character)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return "auto"
