"""The Babel catalogs are complete, match the code and compile.

A string added to the code without ``translations/update.sh`` (and a translation in every
catalog) fails here, and so does a catalog entry the code no longer uses. The messages are
extracted in-process exactly as ``pybabel extract -F babel.cfg -k _l -k T
-k lazy_ngettext:1,2`` does.
"""

from __future__ import annotations

import gettext
import re
import string
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from journey.core.config import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
KEYWORDS = {**DEFAULT_KEYWORDS, **parse_keywords(["_l", "T", "lazy_ngettext:1,2"])}
UPDATE_HINT = "run translations/update.sh and translate the new entries"

# printf-style conversions as Python's % operator reads them; "%%" is a literal percent.
# The space flag is left out so that French "50 % de" is not taken for a placeholder.
PERCENT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0+]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def _po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


@cache
def _catalog(path: Path) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj, abort_invalid=True)


def _key(context: str | None, msgid: str | tuple) -> tuple:
    return context, msgid if isinstance(msgid, str) else tuple(msgid)


@cache
def _extracted() -> frozenset[tuple]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, "babel.cfg")
    found = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS):
        found.add(_key(context, message))
    return frozenset(found)


def _msgids(catalog: Catalog) -> set[tuple]:
    return {_key(message.context, message.id) for message in catalog if message.id}


def _placeholders(text: str) -> tuple[Counter, list[str], Counter]:
    """Named %-placeholders, positional ones in order, and {fields} with their specs."""
    named, positional = Counter(), []
    for match in PERCENT.finditer(text):
        if match.group(0) == "%%":
            continue
        if match.group("name") is not None:
            named[match.group(0)] += 1
        else:
            positional.append(match.group(0))
    fields = Counter()
    try:
        for _literal, field, spec, conversion in string.Formatter().parse(text):
            if field is not None:
                fields[(field, spec, conversion)] += 1
    except ValueError as exc:  # an unbalanced brace breaks str.format
        fields[("<invalid>", str(exc), None)] += 1
    return named, positional, fields


def _forms(value: str | tuple) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _one_number_forms(catalog: Catalog) -> set[int]:
    """The plural forms that serve exactly one count (Arabic's dual serves 2 alone): such
    a form may leave the count out, since its words say it ("دقيقتين", two minutes)."""
    rule = gettext.c2py(catalog.plural_expr)
    served = Counter(rule(n) for n in range(10001))
    return {form for form, count in served.items() if count == 1 and catalog.num_plurals > 2}


def _problems(catalog: Catalog) -> list[str]:
    problems = []
    for message in catalog:
        if not message.id:
            continue
        label = repr(_forms(message.id)[0])
        if message.fuzzy:
            problems.append(f"fuzzy: {label}")
        ids, strings = _forms(message.id), _forms(message.string)
        if not all(strings):
            problems.append(f"untranslated: {label}")
            continue
        for index, translated in enumerate(strings):
            original = ids[min(index, len(ids) - 1)]
            if _placeholders(translated) != _placeholders(original) and not (
                    index in _one_number_forms(catalog)
                    and _placeholders(translated) == _placeholders(
                        original.replace("%(num)d", "").replace("%(num)s", ""))):
                problems.append(f"placeholders differ: {label} -> {translated!r}")
    for message, errors in catalog.check():
        problems.extend(f"{error}: {message.id!r}" for error in errors)
    problems.extend(f"obsolete entry (#~): {msgid!r}" for msgid in catalog.obsolete)
    return problems


def test_every_language_has_a_catalog():
    assert TEMPLATE.is_file()
    catalogs = {path.parts[-3] for path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")}
    assert catalogs == set(LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_header_names_its_language_and_plural_rule(lang):
    catalog = _catalog(_po_path(lang))
    plural = get_plural(lang)
    assert str(catalog.locale) == lang
    assert catalog.locale_identifier == lang
    assert catalog.num_plurals == plural.num_plurals
    # Compared by meaning, not spelling: Babel releases write the same rule differently.
    ours, babels = gettext.c2py(catalog.plural_expr), gettext.c2py(plural.plural_expr)
    assert [n for n in range(1001) if ours(n) != babels(n)] == []
    assert not catalog.fuzzy


def test_plural_rules_are_compared_by_meaning():
    """The same rule spelled two ways passes; a rule that differs for one n does not."""
    spaced = gettext.c2py("(n % 10 == 1 && n % 100 != 11 ? 0 : 1)")
    compact = gettext.c2py("(n%10==1&&n%100!=11?0:1)")
    wrong = gettext.c2py("(n%10==1?0:1)")
    assert all(spaced(n) == compact(n) for n in range(1001))
    assert [n for n in range(1001) if spaced(n) != wrong(n)] == [11, 111, 211, 311, 411, 511,
                                                                  611, 711, 811, 911]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_fully_translated(lang):
    assert _problems(_catalog(_po_path(lang))) == []


def test_english_catalog_repeats_the_msgids():
    catalog = _catalog(_po_path("en"))
    assert [m.id for m in catalog if m.id and m.string != m.id] == []


@pytest.mark.parametrize("name", ["messages.pot", *LANGUAGES])
def test_catalog_matches_the_code(name):
    path = TEMPLATE if name == "messages.pot" else _po_path(name)
    in_code, in_catalog = _extracted(), _msgids(_catalog(path))
    assert in_code, "no messages extracted: is babel.cfg right?"
    assert sorted(in_code - in_catalog, key=repr) == [], f"missing from {name}; {UPDATE_HINT}"
    assert sorted(in_catalog - in_code, key=repr) == [], f"stale in {name}; {UPDATE_HINT}"


def test_translations_format_like_their_msgids():
    """Every msgstr survives the formatting its msgid gets at run time."""
    for lang in LANGUAGES:
        for message in _catalog(_po_path(lang)):
            if not message.id or not isinstance(message.id, str):
                continue
            named, positional, fields = _placeholders(message.id)
            if "python-format" in message.flags and named and not positional:
                values = {PERCENT.match(p).group("name"): 1 for p in named}
                assert message.string % values, (lang, message.id)
            if fields:
                values = {field: 1 for field, _spec, _conversion in fields}
                assert message.string.format(**values), (lang, message.id)


def test_compiled_catalog_translates(tmp_path):
    for lang in LANGUAGES:
        target = tmp_path / lang / "LC_MESSAGES" / "messages.mo"
        target.parent.mkdir(parents=True)
        with target.open("wb") as fileobj:
            write_mo(fileobj, _catalog(_po_path(lang)))

    def translations(lang: str) -> gettext.GNUTranslations:
        with (tmp_path / lang / "LC_MESSAGES" / "messages.mo").open("rb") as fileobj:
            return gettext.GNUTranslations(fileobj)

    german = translations("de")
    assert german.gettext("Not found.") == "Nicht gefunden."
    assert german.gettext("Use at least %(n)d characters.") % {"n": 10} == (
        "Verwenden Sie mindestens 10 Zeichen.")
    assert german.gettext("Not a valid email address.") == "Keine gültige E-Mail-Adresse."
    assert german.gettext("Missing data for required field.") == (
        "Fehlende Daten für ein Pflichtfeld.")
    assert german.info()["language"] == "de"
    for lang in LANGUAGES:
        compiled = translations(lang)
        for message in _catalog(_po_path(lang)):
            if message.id and isinstance(message.id, str):
                assert compiled.gettext(message.id) == message.string, (lang, message.id)


# --- templates: every visible string goes through _() with a literal ---------------------

TEMPLATES = ROOT / "journey" / "templates"
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
NOT_TEXT = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->", re.S | re.I)
TEXT_ATTRIBUTES = re.compile(
    r"""\b(placeholder|title|alt|aria-label|aria-description|value)\s*=\s*(["'])(.*?)\2""",
    re.S | re.I)
TAG = re.compile(r"<[^>]*>", re.S)
ENTITY = re.compile(r"&[a-zA-Z]+;|&#\d+;")
LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
# A gettext call whose message is not a string literal: extraction cannot find it.
DYNAMIC_CALL = re.compile(r"""(?<![\w.])(_|gettext|ngettext)\(\s*(?!["'])""")


def _template_problems(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    problems = []
    for block in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", source, re.S):
        if DYNAMIC_CALL.search(block):
            problems.append(f"gettext without a literal message: {block.strip()!r}")
    markup = NOT_TEXT.sub(" ", source)
    for _name, _quote, value in TEXT_ATTRIBUTES.findall(JINJA.sub("", markup)):
        if LETTER.search(ENTITY.sub("", value)):
            problems.append(f"untranslated attribute text: {value!r}")
    text = ENTITY.sub(" ", TAG.sub(" ", JINJA.sub(" ", markup)))
    for line in text.splitlines():
        if LETTER.search(line):
            problems.append(f"untranslated text: {line.strip()!r}")
    return problems


def test_template_text_is_all_extracted():
    """A template string that extraction would not find (plain text outside ``_()``,
    a literal in an attribute, or ``_()`` of a variable) fails here."""
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert templates
    problems = {str(path.relative_to(ROOT)): found for path in templates
                if (found := _template_problems(path))}
    assert problems == {}


def test_the_template_check_finds_what_it_must(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<p>{{ _("Fine") }} · 12</p>\n<p>Plain text</p><input placeholder="Name">'
                    '{{ _(title) }}<script>let a = "ok";</script>', encoding="utf-8")
    problems = _template_problems(page)
    assert problems == ["gettext without a literal message: '{{ _(title) }}'",
                        "untranslated attribute text: 'Name'",
                        "untranslated text: 'Plain text'"]


def test_the_arabic_dual_says_two_without_a_numeral():
    """Arabic's dual form is the number itself ("دقيقتين", two minutes): a numeral in
    front of it reads "2 two minutes"."""
    numbered = re.compile(r"%\(num\)[ds] (?=[\u0600-\u06FF])")
    wrong = [message.id[0] for message in _catalog(_po_path("ar"))
             if isinstance(message.id, tuple) and numbered.search(message.string[2])]
    assert wrong == []
