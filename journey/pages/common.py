"""What every page needs: the logged-in check, the reader's locale and currency,
a form submitted to a service (domain errors shown beside the fields), and money in
the reader's currency."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from flask import current_app, g, redirect, request, session, url_for
from flask_babel import get_locale

from journey.core.accounts.auth import current_actor
from journey.core.errors import (
    DomainError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    translate_messages,
)
from journey.core.extensions import db
from journey.core.money import Money, format_money, is_currency
from journey.core.types import today_in
from providers.services.rates import rate_from_table, rates_in_force


def page_locale() -> str:
    return str(get_locale() or "en")


def login_required(view):
    """Send an anonymous reader to the login page, and back here afterwards."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_actor() is None:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``.

    Checked the way a browser will read it: browsers drop tabs and newlines anywhere in
    a URL and read a backslash as ``/``, so ``/%09/evil.example`` (decoded: a tab) or
    ``/\\evil.example`` would leave the site; any control character or backslash refuses
    the target outright (and so no CR or LF ever reaches the Location header)."""
    if not target or len(target) > 2000:
        return default
    if any(ord(char) < 0x20 or ord(char) == 0x7F or char == "\\" for char in target):
        return default
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return default
    return target


def _rate_table():
    if "_rate_table" not in g:
        g._rate_table = rates_in_force(today_in())
    return g._rate_table


def available_currencies() -> list[str]:
    """The default currency and every currency the stored rates reach."""
    codes = {current_app.config["DEFAULT_CURRENCY"]}
    for pair in _rate_table():
        codes.update(pair)
    return sorted(code for code in codes if is_currency(code))


def chosen_currency() -> str:
    """The reader's currency: the profile, then what they chose this session, then the
    cluster's default."""
    actor = current_actor()
    for candidate in (getattr(actor, "currency", None), session.get("currency")):
        if candidate and is_currency(candidate):
            return candidate
    return current_app.config["DEFAULT_CURRENCY"]


def convert_for_reader(money: Money, currency: str | None = None) -> Money | None:
    """``money`` in the reader's currency at today's rate, or None without a rate."""
    currency = currency or chosen_currency()
    if money.currency == currency:
        return money
    rate = rate_from_table(_rate_table(), money.currency, currency)
    return rate.convert(money) if rate is not None else None


def show_money(money: Money | None) -> str:
    return format_money(money, page_locale()) if money is not None else ""


def show_minor(amount_minor: int | None, currency: str) -> str:
    """``amount_minor`` minor units of ``currency`` as the reader's locale writes them."""
    return show_money(Money(int(amount_minor), currency) if amount_minor is not None else None)


def language_name(code: str) -> str:
    """``"de"`` -> "German" / "Deutsch" / ..., in the reader's language."""
    try:
        return Locale.parse(code).get_display_name(page_locale()) or code
    except (ValueError, TypeError, UnknownLocaleError):
        return code


def page_arg() -> int:
    """``?page=`` as a page number; anything else is the first page."""
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 100000 else 1


def page_url(page: int) -> str:
    """The address of this list's page number ``page``, its other query arguments kept
    (their first values; names url_for reserves, such as ``_external``, dropped)."""
    args = {name: value for name, value in request.args.items() if not name.startswith("_")}
    return url_for(request.endpoint, **{**args, **(request.view_args or {}), "page": page})


def apply_domain_error(form, error: DomainError) -> None:
    """A refused action: roll back whatever it wrote (so the page is redrawn from the
    database as it was, and nothing half-written is flushed by the redraw), then put
    the error's messages beside the form's fields (translated); what belongs to no
    field goes on top of the form, after the error's own message."""
    db.session.rollback()
    loose: list[str] = []
    for name, messages in translate_messages(error.fields).items():
        if isinstance(messages, dict):  # nested (e.g. {"json": {...}})
            messages = [m for values in messages.values() for m in values]
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors") and name != "meta":
            field.errors = list(field.errors) + list(messages)
        else:
            loose.extend(messages)
    if loose or not error.fields:
        form.form_errors.append(str(error.message))
    form.form_errors.extend(loose)


#: Errors that say "not for you" rather than "fix this field".
ACCESS_ERRORS = (NotAuthenticated, Forbidden, NotFound)


def submit(form, action, *, raise_access_errors: bool = False, invalid_status: int = 422):
    """Validate ``form`` (on POST) and run ``action()``.

    Returns ``(result, status)``: the action's result and 200 when it is done; else None
    and the status to answer with: 200 for a plain GET, ``invalid_status`` for invalid
    fields (400 suits a button, whose only field is the CSRF token), 422 for an action
    that returned None after putting its own errors beside the fields, the domain
    error's status for a refusal. A refusal rolls back what the action wrote and
    goes beside the fields (:func:`apply_domain_error`); with ``raise_access_errors``, a
    refused access (:data:`ACCESS_ERRORS`) is raised to the error page instead.
    """
    if not form.validate_on_submit():
        return None, invalid_status if request.method == "POST" else 200
    try:
        result = action()
    except DomainError as error:
        if raise_access_errors and isinstance(error, ACCESS_ERRORS):
            raise
        apply_domain_error(form, error)
        return None, error.status
    return result, 422 if result is None else 200


def submit_card(form, action):
    """:func:`submit` of a card form (:class:`~journey.pages.forms.CheckoutForm`): after
    a refusal the card is asked for again; invalid fields keep it."""

    def pay():
        try:
            return action()
        except DomainError:
            form.payment_method.data = ""
            raise

    return submit(form, pay)


def stripe_js_url() -> str:
    """Stripe.js: Stripe's own in production, localstripe's in development and tests."""
    config = current_app.config
    if config.get("STRIPE_JS_URL"):
        return config["STRIPE_JS_URL"]
    base = config["STRIPE_API_BASE"].rstrip("/")
    if base == "https://api.stripe.com":  # real Stripe serves Stripe.js from its own host
        return "https://js.stripe.com/v3/"
    return base + "/js.stripe.com/v3/"
