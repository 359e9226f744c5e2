"""The Chromium tour of every role's pages (tests/journey/pages/test_browser_tour.py): what
it visits, and the checks it runs on each page at each width and language.

A page fails when it is wider than the screen, when a field has no label, when it shows
an interface string in English although the page is in another language (or a string that
has no translation in that language's catalog), and when it serves member content in a
language the reader did not ask for (the demo cluster has an English text of everything,
so on a Norwegian page only Norwegian or English member content may appear), or member
content not marked with ``served()`` (``lang`` and ``dir="auto"``), or marked with a
language it is not written in.

Interface strings are the msgids of the language's catalog and of the source as
translations/update.sh extracts it (so a string written since the catalogs were last
updated counts as untranslated). Left out as member content: whatever sits inside an
element marked with another language than the page's or with ``dir="auto"``, and form
field values. Member content is recognised by its text: the demo cluster's offer titles
and descriptions, member descriptions and package names and descriptions, read from the
live server's database.

Every problem is collected, not raised: a role's test fails once, at the end, with the
list of every page, language, width and problem, so one run shows everything.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select

from tests.journey.pages.browser_fixtures import UNLABELLED, book_by_card, weekday_after

ROOT = Path(__file__).resolve().parents[3]
LANGUAGES = ("en", "nb", "ar", "lt")
#: The browser's locale per page language (its Accept-Language), so that the content
#: language the browser asks for matches the page's.
BROWSER_LOCALES = {"en": "en-GB", "nb": "nb-NO", "ar": "ar", "lt": "lt-LT"}
TOUR_WIDTHS = (1280, 390)
#: Languages a page in a language may also serve member content in: itself, its base
#: language (and, for Norwegian Bokmål, the macrolanguage "no") and English, since the
#: demo cluster has an English text of every offer, member and package.
ALSO_READ = {"nb": {"no"}}

# --- the checks, run in the page -----------------------------------------------------------

#: How wide the page is beyond the screen, and the outermost elements that stick out (the
#: ones whose parent does not), leaving out whatever sits in a container that scrolls or
#: clips sideways (that does not widen the page).
OVERFLOW_DETAILS = r"""() => {
  const root = document.scrollingElement || document.documentElement;
  const excess = root.scrollWidth - window.innerWidth;
  if (excess <= 1) return {excess, offenders: []};
  const width = document.documentElement.clientWidth;
  // What lies beyond the end of the line widens the page: the right in ltr, the left in rtl.
  const rtl = getComputedStyle(document.documentElement).direction === 'rtl';
  const contained = el => {
    for (let e = el.parentElement; e && e !== document.body && e !== document.documentElement;
         e = e.parentElement) {
      if (getComputedStyle(e).overflowX !== 'visible') return true;
    }
    return false;
  };
  const sticksOut = el => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && (rtl ? box.left < -1 : box.right > width + 1);
  };
  const describe = el => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    const classes = [...el.classList].slice(0, 3);
    if (classes.length) name += '.' + classes.join('.');
    const box = el.getBoundingClientRect();
    const text = (el.innerText || el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 40);
    return `${name} [${Math.round(box.left)}..${Math.round(box.right)} px]`
      + (text ? ` "${text}"` : '');
  };
  const offenders = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (!sticksOut(el) || contained(el)) continue;
    const parent = el.parentElement;
    if (parent && parent !== document.body && sticksOut(parent)) continue;
    offenders.push(describe(el));
    if (offenders.length >= 6) break;
  }
  return {excess, offenders};
}"""

#: The fields of the card form the payment provider's script draws into #card-element
#: (Stripe's, labelled inside its own frame; in the tests localstripe's stand-in, whose
#: bare inputs are not the app's): the label check leaves them to the provider.
CARD_FIELDS = """() => [...document.querySelectorAll(
  '#card-element input, #card-element select, #card-element textarea')].map(el => el.outerHTML)"""

#: The interface text the reader sees: every visible text node and every text attribute a
#: person meets (placeholder, aria-label, title, alt, a button's value), and the parts of
#: the document's title. Member content is left out: whatever sits inside an element
#: marked with a language other than the page's or with dir="auto" (the ``served()``
#: marker, also on names and notes people wrote), and the values of form fields.
INTERFACE_TEXT = r"""() => {
  const pageLang = (document.documentElement.getAttribute('lang') || '').toLowerCase();
  const member = el => {
    for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
      if ((e.getAttribute('dir') || '').toLowerCase() === 'auto') return true;
      const lang = e.getAttribute('lang');
      if (lang !== null && lang.toLowerCase() !== pageLang) return true;
      if (e.isContentEditable) return true;
    }
    return false;
  };
  const shown = el => {
    const box = el.closest('select') || el;
    if (!box.getClientRects().length) return false;
    return getComputedStyle(box).visibility !== 'hidden';
  };
  const where = el => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 3; e = e.parentElement) {
      let name = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(name + '#' + e.id); break; }
      if (e.classList.length) name += '.' + e.classList[0];
      parts.unshift(name);
    }
    return parts.join(' > ');
  };
  const found = [];
  const seen = new Set();  // the texts of single text nodes
  const skip = 'script, style, noscript, template, textarea';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue.replace(/\s+/g, ' ').trim();
    const el = node.parentElement;
    if (!text || !/\p{L}/u.test(text) || !el || el.closest(skip)) continue;
    if (member(el) || !shown(el)) continue;
    found.push({text, where: where(el)});
    seen.add(text);
  }
  // A sentence whose values are set apart in inline elements ("since <bdi>date</bdi>")
  // is read whole as well: the element's text, when all it holds is text and phrasing.
  const inline = new Set(['A', 'ABBR', 'B', 'BDI', 'BDO', 'CODE', 'DATA', 'EM', 'I',
                          'SMALL', 'SPAN', 'STRONG', 'TIME', 'SUB', 'SUP', 'BR']);
  for (const el of document.body.querySelectorAll('*')) {
    const kids = [...el.childNodes];
    if (!kids.some(k => k.nodeType === 1)
        || !kids.some(k => k.nodeType === 3 && k.nodeValue.trim())) continue;
    if (!kids.every(k => k.nodeType === 3 || k.nodeType === 8
                         || (k.nodeType === 1 && inline.has(k.tagName)
                             && [...k.querySelectorAll('*')].every(d => inline.has(d.tagName)))))
      continue;
    if (el.closest(skip) || member(el) || !shown(el)) continue;
    const text = el.textContent.replace(/\s+/g, ' ').trim();
    if (text && /\p{L}/u.test(text) && !seen.has(text))
      found.push({text, where: where(el) + ' (whole)'});
  }
  const attributes = ['placeholder', 'aria-label', 'title', 'alt'];
  for (const el of document.body.querySelectorAll(
      '[placeholder], [aria-label], [title], img[alt], input[type=submit], input[type=button]')) {
    if (member(el) || !shown(el)) continue;
    const names = el.matches('input[type=submit], input[type=button]')
      ? [...attributes, 'value'] : attributes;
    for (const name of names) {
      const value = (el.getAttribute(name) || '').replace(/\s+/g, ' ').trim();
      if (value && /\p{L}/u.test(value)) found.push({text: value, where: `${where(el)} @${name}`});
    }
  }
  for (const part of document.title.split(' · ')) {
    const text = part.replace(/\s+/g, ' ').trim();
    if (text && /\p{L}/u.test(text)) found.push({text, where: 'title'});
  }
  return {lang: pageLang, found};
}"""

#: Member content as served: every element ``served()`` marked (a language and
#: dir="auto"), with the language it says and its text.
SERVED_CONTENT = r"""() => [...document.body.querySelectorAll('[lang][dir=auto], [lang][dir=AUTO]')]
  .map(el => ({lang: el.getAttribute('lang'),
               text: (el.textContent || el.getAttribute('alt') || '').replace(/\s+/g, ' ')
                       .trim(),
               tag: el.tagName.toLowerCase()}))"""


#: Every check above in one call.
ALL_CHECKS = f"""() => ({{overflow: ({OVERFLOW_DETAILS})(), unlabelled: ({UNLABELLED})(),
  card: ({CARD_FIELDS})(), text: ({INTERFACE_TEXT})(), served: ({SERVED_CONTENT})()}})"""


# --- the interface strings and their catalogs ---------------------------------------------

#: A placeholder of a Python format string in a msgid: ``%(name)s``, ``%d``, ``{name}``.
PLACEHOLDER = re.compile(r"%\((?P<name>[^)]*)\)[-#0 +]*\d*(?:\.\d+)?(?P<k1>[sdifr])"
                         r"|%[-#0 +]*\d*(?:\.\d+)?(?P<k2>[sdifr])|\{[^{}]*\}")
#: What a numeric placeholder stands for on the page: digits as any locale writes them.
NUMBER = r"[\d\u0660-\u0669\u06f0-\u06f9\s.,'\u00a0\u202f\u066b\u066c+−-]+"
#: Placeholders that stand for a number even when written ``%(num)s``.
NUMERIC = {"num", "n", "number", "count", "days", "quantity", "min", "max", "limit",
           "minutes"}
#: Around a text, what may be left off before comparing it with a msgid: the brackets of
#: "(Patient)", a colon after a label, a full stop.
EDGES = re.compile(r"^[\s(\[«“„\"'·–—-]+|[\s)\]»”\"'·:.,;–—-]+$")


def _letters(value: str) -> int:
    return sum(character.isalpha() for character in value)


def _pattern(message: str, minimum: int = 4) -> re.Pattern | None:
    """A msgid (or translation) with placeholders as a pattern matching what the page
    shows; None when it has none, or when too little of it is fixed text to tell it from
    anything else (``%(name)s (%(member)s)``)."""
    parts, end, fixed = [], 0, ""
    for match in PLACEHOLDER.finditer(message):
        literal = message[end:match.start()].replace("%%", "%")
        parts.append(re.escape(literal))
        fixed += literal
        kind = match.group("k1") or match.group("k2")
        numeric = kind in ("d", "i", "f") or match.group("name") in NUMERIC
        parts.append(NUMBER if numeric else r".+?")
        end = match.end()
    if not parts:
        return None
    literal = message[end:].replace("%%", "%")
    parts.append(re.escape(literal))
    fixed += literal
    if _letters(fixed) < minimum:
        return None
    return re.compile("".join(parts).replace(r"\ ", r"\s+"), re.DOTALL)


def _keywords() -> dict:
    """pybabel's default keywords and the project's own (-k in translations/update.sh)."""
    from babel.messages.extract import DEFAULT_KEYWORDS
    from babel.messages.frontend import parse_keywords

    script = (ROOT / "translations" / "update.sh").read_text(encoding="utf-8")
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords(re.findall(r"-k\s+(\S+)", script)))
    return keywords


#: Source files the extraction could not read (being edited while the tour ran).
UNREADABLE: list[str] = []


@lru_cache(maxsize=1)
def source_messages() -> frozenset:
    """Every interface string in the source (as ``translations/update.sh`` extracts it,
    with babel.cfg): the strings written since the catalogs were last updated are here
    too. Singular and plural msgids each on their own. A file that cannot be read as
    code (being edited) is passed over."""
    import os

    from babel.messages.extract import extract_from_file
    from babel.messages.frontend import parse_mapping_cfg
    from babel.util import pathmatch

    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = _keywords()
    found: set[str] = set()
    for top in sorted({pattern.split("/")[0] for pattern, _method in method_map}):
        for folder, dirs, files in os.walk(ROOT / top):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            for name in sorted(files):
                path = Path(folder, name).relative_to(ROOT).as_posix()
                method = next((m for pattern, m in method_map if pathmatch(pattern, path)),
                              None)
                if method is None or method == "ignore":
                    continue
                options = next((o for pattern, o in options_map.items()
                                if pathmatch(pattern, path)), {})
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        messages = extract_from_file(method, str(ROOT / path),
                                                     keywords=keywords, options=options)
                except Exception:  # noqa: BLE001 - a file half-way through an edit
                    UNREADABLE.append(path)
                    continue
                for _line, message, _comments, _context in messages:
                    for msgid in (message if isinstance(message, tuple) else (message,)):
                        if msgid:
                            found.add(msgid)
    return frozenset(found)


@dataclass
class Entry:
    """A msgid's translations in one catalog (every context and plural form)."""
    translations: list[str] = field(default_factory=list)
    fuzzy: bool = False


class Catalog:
    """One language's catalog, judging the texts of a page in that language."""

    def __init__(self, language: str):
        from babel.messages.pofile import read_po

        self.language = language
        path = ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
        with open(path, "rb") as po:
            catalog = read_po(po, locale=language)
        self.entries: dict[str, Entry] = {}
        self.translated: set[str] = set()  # every translation: a text that is one is fine
        for message in catalog:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple | list) \
                else (message.string,)
            strings = [s for s in strings if s] if not message.fuzzy else []
            for msgid in ids:
                entry = self.entries.setdefault(msgid, Entry())
                entry.translations += strings
                entry.fuzzy = entry.fuzzy or message.fuzzy
            self.translated.update(strings)
        messages = set(self.entries) | set(source_messages())
        self.literals = {m for m in messages if not PLACEHOLDER.search(m) and _letters(m)}
        # The most specific first: the msgid with the most fixed text names the string.
        self.patterns = sorted(((m, pattern) for m in messages if (pattern := _pattern(m))),
                               key=lambda found: -_letters(PLACEHOLDER.sub("", found[0])))
        self._judged: dict[str, str | None] = {}

    def judge(self, text: str) -> str | None:
        """Why ``text`` on a page in this language is an untranslated interface string,
        or None when it is not one."""
        if text not in self._judged:
            self._judged[text] = self._judge(text)
        return self._judged[text]

    def _judge(self, text: str) -> str | None:
        candidates = [text]
        trimmed = EDGES.sub("", text)
        if trimmed != text and _letters(trimmed):
            candidates.append(trimmed)
        for candidate in candidates:
            if candidate in self.translated:
                return None  # it is this language's translation of some string
            if candidate in self.literals:
                return self._why(candidate, candidate)
        for candidate in candidates:
            matches = [msgid for msgid, pattern in self.patterns
                       if pattern.fullmatch(candidate)]
            if matches:
                text = candidate
                break
        else:
            return None
        # The most specific msgids (the most fixed text); when several match as well (an
        # old string and its new plural form), the text is fine if any of them is
        # translated as shown, and every reason is given otherwise.
        best = _letters(PLACEHOLDER.sub("", matches[0]))
        reasons = [self._why(msgid, text) for msgid in matches
                   if _letters(PLACEHOLDER.sub("", msgid)) == best]
        if any(reason is None for reason in reasons):
            return None
        # A msgid the catalog lacks is the likelier source: one it translates would have
        # been translated (unless the string is made outside a request, or the catalog
        # is not compiled).
        missing = [reason for reason in reasons if reason.startswith("not in the catalog")]
        return " or ".join(dict.fromkeys(missing or reasons))

    def _why(self, msgid: str, shown: str) -> str | None:
        entry = self.entries.get(msgid)
        if entry is None:
            return f"not in the catalog yet (msgid {msgid!r})"
        for translation in entry.translations:
            own = _pattern(translation, minimum=0)
            if translation == shown or own is not None and own.fullmatch(shown):
                return None  # the translation reads as the English (a name, "PDF")
        if entry.translations:
            return (f"shown in English although the catalog translates it "
                    f"(msgid {msgid!r}: {entry.translations[0]!r})")
        state = "fuzzy" if entry.fuzzy else "empty"
        return f"translation {state} in the catalog (msgid {msgid!r})"


@cache
def catalog(language: str) -> Catalog:
    return Catalog(language)


# --- a role's tour -------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A problem of a page, with the languages and widths it was seen in."""
    page: str
    problem: str
    seen: tuple[tuple[str, tuple[int, ...]], ...]  # (language, widths)
    examples: tuple[str, ...] = ()  # the texts it is about, when there are several

    def __str__(self) -> str:
        def widths(found: tuple[int, ...]) -> str:
            return "+".join(str(width) for width in found) + " px" if found else "-"

        if len({found for _lang, found in self.seen}) == 1:
            where = ", ".join(lang for lang, _found in self.seen) + "; " \
                + widths(self.seen[0][1])
        else:
            where = ", ".join(f"{lang} {widths(found)}" for lang, found in self.seen)
        examples = ""
        if self.examples:
            shown = ", ".join(repr(example) for example in self.examples[:3])
            more = len(self.examples) - 3
            examples = f": {shown}" + (f" and {more} more" if more > 0 else "")
        return f"{self.page} [{where}]: {self.problem}{examples}"


def with_lang(url: str, lang: str) -> str:
    """``url`` asking for the interface (and member content) in ``lang``."""
    parts = urlsplit(url)
    query = "&".join([q for q in parts.query.split("&") if q and not q.startswith("lang=")]
                     + [f"lang={lang}"])
    return urlunsplit(parts._replace(query=query))


def allowed_content_languages(lang: str) -> set[str]:
    return {lang, lang.split("-")[0], "en", *ALSO_READ.get(lang, ())}


def _short(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[:size - 1] + "…"


@dataclass
class World:
    """What the tour visits: each role's pages as ``(name, path)``; and the member content
    of the demo cluster (offer titles and descriptions, member descriptions, package
    names and descriptions), each text with the languages it is written in."""
    pages: dict[str, list[tuple[str, str | None]]]
    member_texts: dict[str, set[str]]
    other_languages: dict[str, list[str]] = field(default_factory=dict)  # role -> profile


class Tour:
    """One role's visit of its pages in each language, at each width: the screenshots go
    to ``folder``; :attr:`failures` collects every problem."""

    def __init__(self, browser, server, world: World, folder: Path, role: str):
        self.browser, self.server, self.folder, self.role = browser, server, folder, role
        self.member_texts = world.member_texts
        # The other languages on the reader's profile: member content may come in them.
        self.also_read = {code.split("_")[0].lower()
                          for code in world.other_languages.get(role, ())}
        self.folder.mkdir(parents=True, exist_ok=True)
        self.problems: dict[tuple[str, str], dict[str, list[int]]] = {}
        self.examples: dict[tuple[str, str], dict[str, None]] = {}  # texts a problem is about
        self.pages: list[str] = []  # in the order visited
        self.numbers: dict[str, int] = {}  # each page's number in the screenshots' names
        self.seconds = {"load": 0.0, "check": 0.0, "screenshot": 0.0}  # where the time goes
        self.visited = 0

    # -- the contexts

    def context(self, lang: str):
        """A browser context whose locale (Accept-Language) is ``lang``'s; every request
        must stay on the server's origin (or localstripe's)."""
        context = self.browser.new_context(locale=BROWSER_LOCALES[lang],
                                           viewport={"width": TOUR_WIDTHS[0], "height": 900})
        tab = context.new_page()
        tab.dialogs = []

        def check_origin(request):
            parts = urlsplit(request.url)
            if parts.scheme in ("data", "blob", "about"):
                return
            if f"{parts.scheme}://{parts.netloc}" not in self.server.allowed_origins:
                self.fail(tab.url.replace(self.server.url, "") or "?", lang, 0,
                          f"requests {request.url} from outside the server")

        def answer(dialog):
            tab.dialogs.append(dialog.message)
            dialog.accept()

        tab.on("request", check_origin)
        tab.on("dialog", answer)
        return context, tab

    def login(self, tab, email: str, password: str) -> None:
        tab.goto(f"{self.server.url}/login", wait_until="domcontentloaded")
        tab.fill("#email", email)
        tab.fill("#password", password)
        with tab.expect_navigation(wait_until="domcontentloaded"):
            tab.click("main form button[type=submit]")
        assert "/login" not in tab.url, f"{email} could not log in"

    # -- the pages

    def fail(self, page: str, lang: str, width: int, problem: str,
             example: str | None = None) -> None:
        widths = self.problems.setdefault((page, problem), {}).setdefault(lang, [])
        if width and width not in widths:
            widths.append(width)
        if example:
            self.examples.setdefault((page, problem), {}).setdefault(example, None)

    def report(self) -> str:
        """Every failure of the role, page by page in the order visited, for the one
        assertion at the end."""
        order = {name: n for n, name in enumerate(dict.fromkeys(self.pages))}
        failures = sorted(self.failures, key=lambda failure: (
            order.get(failure.page, len(order)), failure.problem))
        return f"{self.role}: {len(failures)} problem(s)\n" + "\n".join(
            str(failure) for failure in failures)

    @property
    def failures(self) -> list[Failure]:
        return [Failure(page, problem, tuple((lang, tuple(sorted(widths, reverse=True)))
                                             for lang, widths in seen.items()),
                        tuple(self.examples.get((page, problem), ())))
                for (page, problem), seen in self.problems.items()]

    def visit(self, tab, lang: str, name: str, url: str | None) -> None:
        """``url`` in ``lang`` at each width: checked and photographed."""
        if url is None:
            self.pages.append(name)
            self.fail(name, lang, 0, "the page does not exist (no route for it)")
            return
        self.visited += 1
        self.pages.append(name)
        started = time.monotonic()
        response = tab.goto(with_lang(self.server.url + url, lang), wait_until="load")
        self.seconds["load"] += time.monotonic() - started
        if response is None or response.status >= 400:
            self.fail(name, lang, 0, f"answers {response and response.status} for {url}")
        for width in TOUR_WIDTHS:
            tab.set_viewport_size({"width": width, "height": 900})
            started = time.monotonic()
            self.check(tab, lang, name, width)
            self.seconds["check"] += time.monotonic() - started
            started = time.monotonic()
            number = self.numbers.setdefault(name, len(self.numbers) + 1)
            tab.screenshot(full_page=True, path=str(
                self.folder / f"{self.role}-{lang}-{number:02d}-{name}-{width}.png"))
            self.seconds["screenshot"] += time.monotonic() - started
        tab.set_viewport_size({"width": TOUR_WIDTHS[0], "height": 900})

    def check(self, tab, lang: str, name: str, width: int) -> None:
        found = tab.evaluate(ALL_CHECKS)  # one round trip
        overflow = found["overflow"]
        if overflow["excess"] > 1:
            self.fail(name, lang, width, f"{overflow['excess']} px wider than the screen: "
                      + "; ".join(overflow["offenders"] or ["(no single element)"]))
        card = set(found["card"])
        for field_html in found["unlabelled"]:
            if field_html in card:
                continue
            self.fail(name, lang, width, f"field without a label: {field_html[:160]}")
        shown = found["text"]
        if shown["lang"] != lang:
            self.fail(name, lang, width, f"the page is in {shown['lang']!r}, not {lang!r}")
        allowed = allowed_content_languages(lang) | self.also_read
        judge = catalog(lang) if lang != "en" else None
        for item in shown["found"]:
            text = item["text"]
            written_in = self.member_texts.get(text)
            if written_in is not None and judge is not None and text in judge.translated:
                # the interface's own word that a member also wrote ("Kardiologo
                # konsultacija": a procedure's name, and a Lithuanian offer's title)
                written_in = None
            elif written_in is not None and lang == "en" and text in source_messages():
                written_in = None
            if written_in is not None:  # member content outside any served() marker
                if item["where"] != "title":
                    where = re.sub(r"#([\w-]*?)\d+\b", r"#\1N", item["where"])
                    self.fail(name, lang, width, f"member content at {where} is not marked "
                              "with served() (lang, dir=auto)", example=_short(text, 50))
                if not written_in & allowed:
                    self.fail(name, lang, width, f"member content in {sorted(written_in)} "
                              f"although an English text exists: {_short(text)!r}")
                continue
            why = judge and judge.judge(text)
            if why:
                self.fail(name, lang, width, f"untranslated {text!r} at {item['where']}: {why}")
        for piece in found["served"]:
            served = (piece["lang"] or "").replace("_", "-").lower()
            text = piece["text"]
            if served and served not in allowed and served.split("-")[0] not in allowed:
                self.fail(name, lang, width, f"member content in {piece['lang']!r} although "
                          f"an English text exists: <{piece['tag']}> {_short(text)!r}")
            written_in = self.member_texts.get(text)
            if served and written_in and served.split("-")[0] not in written_in:
                self.fail(name, lang, width, f"member content marked lang={piece['lang']!r} "
                          f"is the {sorted(written_in)} text: {_short(text)!r}")


# --- what the tour visits: the demo cluster and a few journeys of the demo patient --------

PATIENT_EMAIL = "patient@onewindow.demo"  # Ingrid Solberg, Norwegian
MEMBER = "neris-orthopaedic-hospital"
KNEE = (MEMBER, "Total knee replacement (knee arthroplasty)")
CONSULTATION = (MEMBER, "Orthopaedic surgeon consultation")
TRANSFER = ("ratai-transfers", "Vilnius Airport transfer (one way)")
ROOM = ("tilto-namai-hotel", "Double room with breakfast")


def _endpoint_url(app, endpoints: Iterable[str], **values) -> str | None:
    """The URL of the first of ``endpoints`` the app has, or None."""
    from flask import url_for
    from werkzeug.routing import BuildError

    for endpoint in endpoints:
        try:
            return url_for(endpoint, **values)
        except BuildError:
            continue
    return None


def _admin_member_url(app, provider_id: int) -> str | None:
    """The admin's page of one member, whatever its endpoint is called: a GET route of
    the admin blueprint taking the member's id."""
    from flask import url_for

    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and "GET" in (rule.methods or ()) \
                and rule.arguments in ({"provider_id"}, {"member_id"}) \
                and "evidence" not in rule.rule:
            return url_for(rule.endpoint, **{next(iter(rule.arguments)): provider_id})
    return None


def member_texts() -> dict[str, set[str]]:
    """The demo cluster's multilingual member content: text -> its languages."""
    from journey.builder.models import TemplateText
    from journey.core.extensions import db
    from providers.models import OfferText, ProviderText

    texts: dict[str, set[str]] = {}
    for language, *values in db.session.execute(select(
            OfferText.language, OfferText.title, OfferText.description).union_all(
            select(TemplateText.language, TemplateText.name, TemplateText.description),
            select(ProviderText.language, ProviderText.description, ProviderText.description))):
        for value in values:
            text = " ".join((value or "").split())
            if text:
                texts.setdefault(text, set()).add(language.split("_")[0].lower())
    return texts


def tour_world(server) -> World:
    """The pages of each role, as ``(name, path)``, on the demo cluster of the live server
    plus three journeys of the demo patient made here: one whose quote she has accepted
    (the checkout page), one booked, paid by card and confirmed by every member (the
    booking; the hospital's statement) and one whose consultation waits for the
    hospital's answer (its requests, the coordinator's board)."""
    from bookings.models import LineStatus
    from bookings.payments import StripeGateway
    from bookings.services import confirmation
    from journey.builder.models import Journey, PackageTemplate, Quote
    from journey.builder.services import journeys, quotes
    from journey.core.accounts.services import get_user_by_email
    from journey.core.extensions import db
    from journey.core.types import today_in
    from journey.demo import (
        DEMO_JOURNEY,
        demo_offer_id,
        find_demo_journey,
        find_template,
        manager_email,
    )
    from journey.trip.services.tasks import journey_lines
    from providers.models import Provider

    app = server.app
    with app.app_context():
        patient = get_user_by_email(PATIENT_EMAIL)
        demo = find_demo_journey()
        demo_quote = db.session.scalar(select(Quote.id).where(Quote.journey_id == demo.id)
                                       .order_by(Quote.id.desc()).limit(1))
        member_id = db.session.scalar(select(Provider.id).where(Provider.slug == MEMBER))
        knee = demo_offer_id(*KNEE)
        package: PackageTemplate = find_template(DEMO_JOURNEY["template"])
        package_id = package.id

        arrival = today_in() + timedelta(days=20)
        to_pay = journeys.open_journey(patient, arrival_on=arrival,
                                       departure_on=arrival + timedelta(days=2),
                                       currency="NOK", nationality="NO")
        journeys.add_item(patient, to_pay.id, offer_id=demo_offer_id(*TRANSFER),
                          start_on=arrival)
        journeys.add_item(patient, to_pay.id, offer_id=demo_offer_id(*ROOM),
                          start_on=arrival, days=2)
        accepted = quotes.create_quote(patient, to_pay.id)
        quotes.accept_quote(patient, accepted.id)
        db.session.commit()
        accepted_id = accepted.id

        # Booked, paid and confirmed by every member (the hospital accepts its line):
        # the patient's booking, and the hospital's statement.
        day = weekday_after(today_in() + timedelta(days=12))
        booked_id = book_by_card(patient, [(demo_offer_id(*TRANSFER), day, None),
                                           (demo_offer_id(*ROOM), day, 2),
                                           (demo_offer_id(*CONSULTATION), day, None)],
                                 arrival_on=day, departure_on=day + timedelta(days=2),
                                 nationality="NO")
        manager = get_user_by_email(manager_email(MEMBER))
        for line in journey_lines(db.session.get(Journey, booked_id)):
            if line.status != LineStatus.CONFIRMED:
                confirmation.accept_line(manager, line.id, gateway=StripeGateway.from_config())
        db.session.commit()
        # Paid, and waiting for the hospital's answer: its requests.
        later = weekday_after(day + timedelta(days=7))
        book_by_card(patient, [(demo_offer_id(*ROOM), later, 1),
                               (demo_offer_id(*CONSULTATION), later, None)],
                     arrival_on=later, departure_on=later + timedelta(days=1), nationality="NO")

        with app.test_request_context():
            def url(*endpoints, **values):
                return _endpoint_url(app, endpoints, **values)

            pages = {
                "patient": [
                    ("home", url("main.home")),
                    ("catalogue", url("catalogue.search", q="knee")),
                    ("member", url("catalogue.member", provider_id=member_id)),
                    ("members", url("catalogue.members_index")),
                    ("offer", url("catalogue.offer", offer_id=knee)),
                    ("package", url("catalogue.package", template_id=package_id)),
                    ("journey", url("journey.show", journey_id=demo.id)),
                    ("quote", url("quote.show", quote_id=demo_quote)),
                    ("checkout", url("quote.checkout", quote_id=accepted_id)),
                    ("booking", url("journey.show", journey_id=booked_id)),
                    ("profile", url("accounts.profile")),
                ],
                "manager": [
                    # The portal's home is the member's list of offers (and its inbox).
                    ("portal-offers", url("member.home", provider_id=member_id)),
                    ("offer-editor", url("offers.terms", offer_id=knee)),
                    ("calendar", url("offers.calendar", offer_id=knee)),
                    ("requests", url("member.requests_page", provider_id=member_id)),
                    ("statement", url("statement.show", provider_id=member_id)),
                    ("payouts", url("member.payouts.index", provider_id=member_id)),
                ],
                "coordinator": [
                    ("board", url("coordinator.board")),
                    ("agenda", url("coordinator.agenda")),
                    ("journey", url("coordinator.journey", journey_id=demo.id)),
                    ("escalations", url("coordinator.escalations")),
                ],
                "admin": [
                    ("overview", url("admin.index")),
                    ("members", url("admin.members_page")),
                    ("member", _admin_member_url(app, member_id)),
                    ("settings", url("admin.settings_page")),
                ],
            }
            reads = list(getattr(patient, "other_languages", None) or [])
            return World(pages=pages, member_texts=member_texts(),
                         other_languages={"patient": reads})
