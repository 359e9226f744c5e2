"""The outbox, sent: each notification becomes an e-mail in its reader's language.

The booking saga writes :class:`bookings.models.Notification` rows (once per fact) in
the same transaction as the change they announce. :func:`send_outbox`, a scheduled job,
turns each into a message: the patient's interface language, or the member's default
language, with amounts and dates formatted for it and a link to the page where the
reader acts. A row is marked sent only after the mail server accepted the message; a
refused or unreachable server leaves it for the next run, up to ``MAX_ATTEMPTS``.

Delivery is at least once: a crash between the server's acceptance and the commit of
``sent_at`` sends that one message again on the next run, and so does a failure half way
through a notification with several recipients (a member's managers): the row is retried
whole, so those already written to get it twice.

Account e-mails (invitations, new passwords, verification links) wait in the same
outbox as :class:`journey.core.accounts.models.AccountToken` rows: :func:`send_outbox`
sends them after the notifications, with the same rules, and never one whose link
expired or was replaced before it went out.

Transports: SMTP (``MAIL_SERVER``) in production; without a server, development writes
each message as an ``.eml`` file under ``instance/mail`` so it can be read.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from flask import current_app, url_for
from flask_babel import force_locale, format_date, format_timedelta, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bookings.models import Booking, BookingLine, EscalationKind, Notification
from journey import notices
from journey.builder.models import BEARING_STATUS_TITLES, BearingRequest, Journey
from journey.builder.services.booking_link import journey_of
from journey.case.models import CaseReview
from journey.core.accounts import tokens as account_tokens
from journey.core.accounts.models import AccountToken, Role, TokenPurpose, User
from journey.core.extensions import db
from journey.core.money import Money, format_money
from journey.core.persistence import commit_unit
from journey.core.types import utcnow
from journey.pages.titles import ESCALATION_TITLES
from journey.trip.models import TASK_KIND_TITLES, Task, TaskKind, TaskStatus
from journey.trip.services.calendar import journey_calendar
from journey.trip.services.reminders import arrival_of
from journey.trip.services.tasks import journey_task_rows
from providers.models import Offer, Provider
from providers.services.members import member_zone
from providers.services.offers import offer_text

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8

#: kind -> (subject, body). Parameters: ``booking``, ``link``, and what the payload holds.
MESSAGES = {
    "request": (
        _l("New request for booking %(booking)s"),
        _l("A patient has booked %(item)s from %(start_on)s. Please accept or decline "
           "it by %(respond_by)s:\n%(link)s")),
    "request_reminder": (
        _l("Reminder: booking %(booking)s waits for your answer"),
        _l("The request for %(item)s from %(start_on)s is still open. Please accept "
           "or decline it by %(respond_by)s:\n%(link)s")),
    "confirmed": (
        _l("Your booking %(booking)s is confirmed"),
        _l("Every member has confirmed your booking and the deposit has been taken. "
           "Your journey, with everything that comes next:\n%(link)s")),
    "declined": (
        _l("Booking %(booking)s: a member cannot take part"),
        _l("One of the members cannot provide an item of your booking. Nothing has been "
           "charged yet. Choose an alternative, go on without it or cancel:\n%(link)s")),
    "line_cancelled_by_member": (
        _l("Booking %(booking)s: an item was cancelled"),
        _l("A member has cancelled %(item)s. You are refunded in full for it, and you "
           "can choose an alternative:\n%(link)s")),
    "sold_out": (
        _l("Booking %(booking)s could not be completed"),
        _l("Your card was authorised after the held places had gone to someone else, so "
           "the booking could not be made and your card has been released. Please "
           "choose other dates:\n%(link)s")),
    "balance_reminder": (
        _l("Booking %(booking)s: the balance is due"),
        _l("The balance of %(amount_minor)s for your booking is due on %(due_on)s. "
           "You can pay it here:\n%(link)s")),
    # The patient's case (no booking: ``journey`` and ``member`` from the payload).
    "case_submitted": (
        _l("A patient's case waits for your review (journey %(journey)s)"),
        _l("A patient has sent the answers and documents you ask for before %(item)s. "
           "Please review the case by %(respond_by)s: approve it, ask for more or "
           "decline it.\n%(link)s")),
    "case_more_requested": (
        _l("%(member)s needs more for your case"),
        _l("%(member)s has looked at your case and needs more before it can approve "
           "it:\n%(missing)s\n\nAdd it and send the case again:\n%(link)s")),
    "case_approved": (
        _l("%(member)s has approved your case"),
        _l("%(member)s has reviewed your case and approved it. %(notes)s\n\nYou can "
           "now pay the package to book it:\n%(link)s")),
    "case_declined": (
        _l("%(member)s cannot treat you on this journey"),
        _l("%(member)s has reviewed your case and cannot accept it: %(notes)s\n\n"
           "Your coordinator can suggest another member; the package is not charged:"
           "\n%(link)s")),
    "review_overdue": (
        _l("A case review is overdue (journey %(journey)s)"),
        _l("%(member)s has not reviewed the patient's case for %(item)s by "
           "%(respond_by)s. Please follow it up with the member or suggest another:\n"
           "%(link)s")),
    # Before the trip (no booking: the journey in the payload). ``arrival`` is the local
    # time with its zone; ``pickup`` says who meets the travellers where, if arranged.
    "trip_reminder_7d": (
        _l("Your journey begins in a week"),
        _l("Your arrival: %(arrival)s.\n%(pickup)s\n\nYour itinerary and what to bring "
           "are on your journey page; the calendar is attached:\n%(link)s")),
    "trip_reminder_48h": (
        _l("Your journey begins in two days"),
        _l("Your arrival: %(arrival)s.\n%(pickup)s\n\nIf your flight or train changes, "
           "enter the new one on your journey page so that we meet you:\n%(link)s")),
    "trip_reminder_24h": (
        _l("See you tomorrow"),
        _l("Your arrival: %(arrival)s.\n%(pickup)s\n\nHave a good journey. Everything "
           "about it:\n%(link)s")),
    # Account e-mails (AccountToken rows). Parameters: ``name``, ``inviter`` (a member,
    # or One Window), ``link`` and ``valid_for`` (e.g. "1 week").
    "patient_invitation": (
        _l("%(inviter)s has opened a journey for you"),
        _l("Hello %(name)s,\n\n%(inviter)s has opened a journey for you at One Window, "
           "where the whole medical-tourism cluster is booked at once. Set a password "
           "to follow your journey, see its quotes and pay online:\n%(link)s\n\n"
           "The link works once, within %(valid_for)s. When it has expired, ask "
           "%(inviter)s for a new one.")),
    "staff_invitation": (
        _l("Your account at %(inviter)s on One Window"),
        _l("Hello %(name)s,\n\nAn account at %(inviter)s has been made for you on "
           "One Window. Set your password to start:\n%(link)s\n\n"
           "The link works once, within %(valid_for)s.")),
    "account_claim": (
        _l("Set the password of your One Window account"),
        _l("Hello %(name)s,\n\nSomeone, probably you, has registered with this "
           "address. An account exists for it already: %(inviter)s opened it for you. "
           "Set its password with this link and you will find everything it holds:\n"
           "%(link)s\n\nThe link works once, within %(valid_for)s. If it was not you, "
           "ignore this e-mail.")),
    "password_reset": (
        _l("A new password for One Window"),
        _l("Hello %(name)s,\n\nSomeone, probably you, has asked for a new password for "
           "your One Window account. Set it with this link:\n%(link)s\n\n"
           "The link works once, within %(valid_for)s. If you did not ask for it, "
           "ignore this e-mail: your password stays as it is.")),
    "email_verification": (
        _l("Confirm your e-mail address"),
        _l("Hello %(name)s,\n\nPlease confirm that this address is yours:\n%(link)s"
           "\n\nThe link works once, within %(valid_for)s.")),
}


def send_outbox(*, now: datetime | None = None, transport=None, limit: int = 200) -> int:
    """Send what the outbox holds (booking notifications, then account e-mails, oldest
    first); returns how many were sent."""
    now = now or utcnow()
    transport = transport or transport_from_config()
    rows = db.session.scalars(select(Notification).where(
        Notification.sent_at.is_(None), Notification.attempts < MAX_ATTEMPTS)
        .order_by(Notification.id).limit(limit)).all()
    return (_deliver(rows, _notification_messages, transport, now=now)
            + send_account_mail(now=now, transport=transport, limit=limit))


def send_account_mail(*, now: datetime | None = None, transport=None, limit: int = 200) -> int:
    """Send the account e-mails waiting in the outbox (oldest first), each once."""
    now = now or utcnow()
    transport = transport or transport_from_config()
    rows = account_tokens.outbox(now=now, limit=limit, max_attempts=MAX_ATTEMPTS)
    return _deliver(rows, lambda record: [compose_account_mail(record)], transport, now=now)


def _deliver(rows, messages_of, transport, *, now: datetime) -> int:
    """Send each row's messages and mark it sent, or count a failed attempt with its
    error; each row's outcome is committed on its own, so one bad row stops nothing."""
    sent = 0
    for row in rows:
        try:
            for message in messages_of(row):
                transport.send(message)
        except Exception as error:  # noqa: BLE001 - one bad row must not stop the outbox
            db.session.rollback()
            row = db.session.get(type(row), row.id)
            row.attempts += 1
            row.last_error = str(error)[:500]
            logger.warning("%s %s not sent: %s", type(row).__name__, row.id, error)
        else:
            row.sent_at = now
            sent += 1
        commit_unit()
    return sent


def _notification_messages(notification: Notification) -> list[EmailMessage]:
    messages = [compose(notification, address, language)
                for address, language in recipients(notification)]
    if not messages:
        raise LookupError(f"no address for {notification.recipient}")
    return messages


def compose_account_mail(record: AccountToken) -> EmailMessage:
    """An account e-mail in its reader's language, with the link it carries."""
    user = record.user
    language = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    subject, body = MESSAGES[record.mail_kind]
    with force_locale(language):
        params = {"name": user.full_name, "inviter": _inviter(record),
                  "link": _account_link(record, language),
                  "valid_for": format_timedelta(record.expires_at - record.created_at)}
        message = EmailMessage()
        message["Subject"] = str(subject) % params
        message["From"] = formataddr((_("One Window"), current_app.config["MAIL_SENDER"]))
        message["To"] = user.email
        message["Message-ID"] = make_msgid(f"account-{record.id}")
        message.set_content(str(body) % params + "\n\n— " + _(
            "One Window: one booking for the whole cluster") + "\n")
        message["Content-Language"] = language
    return message


def _inviter(record: AccountToken) -> str:
    """Who made the account: the inviter's member, else One Window (the cluster)."""
    creator = record.created_by
    if creator is None:  # a claim: whoever invited the owner first
        creator = db.session.scalar(select(User).join(
            AccountToken, AccountToken.created_by_id == User.id).where(
            AccountToken.user_id == record.user_id,
            AccountToken.purpose == TokenPurpose.INVITATION).order_by(AccountToken.id).limit(1))
    provider = db.session.get(Provider, creator.provider_id) if (
        creator is not None and creator.provider_id is not None) else None
    return provider.name if provider is not None else _("One Window")


def _account_link(record: AccountToken, language: str) -> str:
    endpoint = ("accounts.verify_email" if record.purpose == TokenPurpose.EMAIL_VERIFICATION
                else "accounts.set_password")
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, token=account_tokens.raw_token(record), lang=language,
                       _external=True)


def recipients(notification: Notification) -> list[tuple[str, str]]:
    """(address, language) for ``user:7`` (a person), ``provider:3`` (the member's
    address, else its managers', else its staff's) or ``coordinators`` (every active
    coordinator of the cluster)."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if notification.recipient == "coordinators":
        people = db.session.scalars(select(User).where(
            User.role == Role.COORDINATOR, User.active.is_(True)).order_by(User.id)).all()
        return [(user.email, user.locale or default) for user in people]
    kind, _sep, raw_id = notification.recipient.partition(":")
    if not raw_id.isdigit():
        return []
    if kind == "user":
        user = db.session.get(User, int(raw_id))
        if user is None or not user.active:
            return []
        return [(user.email, user.locale or default)]
    if kind == "provider":
        provider = db.session.get(Provider, int(raw_id))
        if provider is None:
            return []
        language = provider.default_language or default
        if provider.email:
            return [(provider.email, language)]
        people = db.session.scalars(select(User).where(
            User.provider_id == provider.id, User.active.is_(True)).order_by(User.id)).all()
        managers = [user for user in people if user.role == Role.MEMBER_MANAGER]
        return [(user.email, user.locale or language) for user in managers or people]
    return []


def compose(notification: Notification, address: str, language: str) -> EmailMessage:
    registered = notices.KINDS.get(notification.kind)
    subject, body = ((registered.subject, registered.body) if registered is not None
                     else MESSAGES[notification.kind])
    booking = (db.session.get(Booking, notification.booking_id)
               if notification.booking_id is not None else None)
    with force_locale(language):
        if registered is not None:
            params = registered.params(notification)
        elif booking is not None:
            params = _params(notification, booking)
        elif notification.kind.startswith("trip_reminder"):
            params = _trip_params(notification)
        else:
            params = _case_params(notification)
        message = EmailMessage()
        message["Subject"] = str(subject) % params
        message["From"] = formataddr((_("One Window"), current_app.config["MAIL_SENDER"]))
        message["To"] = address
        message["Message-ID"] = make_msgid(f"notification-{notification.id}")
        message.set_content(str(body) % params + "\n\n— " + _(
            "One Window: one booking for the whole cluster") + "\n")
        if notification.kind.startswith("trip_reminder"):
            journey = db.session.get(Journey, notification.payload["journey_id"])
            message.add_attachment(journey_calendar(journey, language=language),
                                   maintype="text", subtype="calendar",
                                   filename=f"one-window-journey-{journey.id}.ics")
        if registered is not None and registered.attachments is not None:
            for content, maintype, subtype, filename in registered.attachments(
                    notification, language):
                message.add_attachment(content, maintype=maintype, subtype=subtype,
                                       filename=filename)
        message["Content-Language"] = language  # after set_content, which clears it
    return message


def _params(notification: Notification, booking: Booking) -> dict:
    payload = notification.payload or {}
    params = {"booking": booking.id, "link": _link(notification, booking)}
    line = db.session.get(BookingLine, payload["line_id"]) if "line_id" in payload else None
    if line is not None:
        params["item"] = _item_title(line)
        params["start_on"] = format_date(line.start_on, "medium")
        if line.respond_by is not None:
            params["respond_by"] = _deadline(line.respond_by, notification, line.provider_id)
    if "amount_minor" in payload:
        params["amount_minor"] = format_money(
            Money(int(payload["amount_minor"]), payload["currency"]), _locale())
    if "due_on" in payload:
        params["due_on"] = format_date(date.fromisoformat(payload["due_on"]), "medium")
    return params


def _case_params(notification: Notification) -> dict:
    """A message about a journey's case: the member, the first of its treating items,
    the deadline, what it asks for and its notes."""
    payload = notification.payload or {}
    review = db.session.get(CaseReview, payload["review_id"])
    items = [item for item in review.journey.items if item.offer.provider_id == review.provider_id]
    item = ""
    if items:
        _language, text = offer_text(items[0].offer, _locale())
        item = text.title if text else f"#{items[0].offer_id}"
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        link = (url_for("member.requests_page", provider_id=review.provider_id, _external=True)
                if notification.recipient.startswith("provider:")
                else url_for("coordinator.journey", journey_id=review.journey_id,
                             _external=True)
                if notification.recipient == "coordinators"
                else url_for("journey.show", journey_id=review.journey_id, _external=True))
    return {"journey": review.journey_id, "member": review.provider.name, "item": item,
            "respond_by": _deadline(review.respond_by, notification, review.provider_id)
            if review.respond_by else "", "link": link,
            "missing": "\n".join(f"- {m}" for m in review.missing or []),
            "notes": review.notes or ""}


def _trip_params(notification: Notification) -> dict:
    """A reminder before the trip: the arrival at its local time, and the pick-up."""
    journey = db.session.get(Journey, notification.payload["journey_id"])
    arrival, zone = arrival_of(journey)
    pickup = next((t for t in journey_task_rows(journey.id)
                   if t.kind == TaskKind.AIRPORT_PICKUP and t.status != TaskStatus.CANCELLED),
                  None)
    pickup_text = _("Your pick-up: %(place)s, %(time)s.", place=pickup.place,
                    time=notices.zoned(pickup.due_at, pickup.timezone)) if pickup else _(
        "Enter your flight or train on your journey page so that we can meet you.")
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        link = url_for("journey.show", journey_id=journey.id, _external=True)
    return {"arrival": notices.zoned(arrival, zone) if arrival else "", "pickup": pickup_text,
            "link": link, "journey": journey.id}


def _deadline(moment, notification: Notification, provider_id: int) -> str:
    """A deadline in its reader's zone, with the zone named: a member's in the member's
    own zone, anyone else's (a coordinator) in the zone of the member it waits for."""
    kind, _sep, raw_id = notification.recipient.partition(":")
    reader = int(raw_id) if kind == "provider" and raw_id.isdigit() else provider_id
    return notices.zoned(moment, member_zone(reader))


def _locale() -> str:
    return str(get_locale())


def _item_title(line: BookingLine) -> str:
    _language, text = offer_text(db.session.get(Offer, line.offer_id), _locale())
    return text.title if text else f"#{line.offer_id}"


def _link(notification: Notification, booking: Booking) -> str:
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        if notification.recipient.startswith("provider:"):
            return url_for("member.requests_page", provider_id=int(
                notification.recipient.partition(":")[2]), _external=True)
        journey = journey_of(booking)
        if journey is None:
            return url_for("main.home", _external=True)
        return url_for("journey.show", journey_id=journey.id, _external=True)


class SmtpTransport:
    """The cluster's mail server (``MAIL_SERVER``, ``MAIL_PORT``, STARTTLS when
    ``MAIL_USE_TLS``, login when ``MAIL_USERNAME`` is set)."""

    def __init__(self, host: str, port: int, *, username: str = "", password: str = "",
                 use_tls: bool = False, timeout: float = 10):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.use_tls = username, password, use_tls

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as server:
            if self.use_tls:
                server.starttls(context=ssl.create_default_context())
            if self.username:
                server.login(self.username, self.password)
            server.send_message(message)


class FileTransport:
    """Development without a mail server: each message is an ``.eml`` file."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        (self.folder / f"{name}.eml").write_bytes(bytes(message))


def transport_from_config():
    config = current_app.config
    if config["MAIL_SERVER"]:
        return SmtpTransport(config["MAIL_SERVER"], config["MAIL_PORT"],
                             username=config["MAIL_USERNAME"],
                             password=config["MAIL_PASSWORD"], use_tls=config["MAIL_USE_TLS"])
    return FileTransport(Path(current_app.instance_path) / "mail")


# --- the staff's e-mails (registered kinds) ------------------------------------------------

def _task_assigned_params(notification: Notification) -> dict:
    """A task given to someone: what, when and where at the local time, and the link."""
    task = db.session.get(Task, notification.payload["task_id"])
    title = task.title or str(TASK_KIND_TITLES[task.kind])
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    user = db.session.get(User, int(notification.recipient.partition(":")[2]))
    with current_app.test_request_context(base_url=base):
        link = (url_for("coordinator.journey", journey_id=task.journey_id, _external=True)
                if user is not None and user.role.is_cluster else
                url_for("member.tasks.index", provider_id=user.provider_id, _external=True)
                if user is not None and user.provider_id else
                url_for("main.home", _external=True))
    return {"task": title, "journey": task.journey_id, "time": notices.zoned(task.due_at,
                                                                       task.timezone),
            "place": task.place or "—", "link": link}


def _escalation_params(notification: Notification) -> dict:
    kind = EscalationKind(notification.payload["escalation_kind"])
    booking = db.session.get(Booking, notification.booking_id)
    journey = journey_of(booking)
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        link = url_for("coordinator.escalations", _external=True)
    return {"what": str(ESCALATION_TITLES[kind]), "booking": booking.id,
            "journey": journey.id if journey is not None else "—", "link": link}


notices.register(
    "task_assigned", _l("A task for you: %(task)s"),
    _l("You have been given a task of journey %(journey)s: %(task)s, %(time)s, at "
       "%(place)s.\n\nWhat it is about and who travels:\n%(link)s"),
    _task_assigned_params)
notices.register(
    "escalation_opened", _l("Needs a coordinator: %(what)s (booking %(booking)s)"),
    _l("%(what)s: booking %(booking)s of journey %(journey)s needs a coordinator. "
       "The open escalations:\n%(link)s"),
    _escalation_params)


def _bearing_params(notification: Notification) -> dict:
    """A request that a member bear a line, or its answer: the line, the amount, who."""
    request = db.session.get(BearingRequest, notification.payload["request_id"])
    item = request.item
    title = ""
    if item is not None:
        _language, text = offer_text(item.offer, _locale())
        title = text.title if text else f"#{item.offer_id}"
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        link = (url_for("member.bearing.index", provider_id=request.provider_id,
                        _external=True)
                if notification.recipient.startswith("provider:")
                else url_for("coordinator.journey", journey_id=request.journey_id,
                             _external=True))
    return {"member": request.provider.name, "item": title, "journey": request.journey_id,
            "amount": format_money(Money(request.amount_minor, request.currency), _locale()),
            "status": str(BEARING_STATUS_TITLES[request.status]), "link": link}


notices.register(
    "bearing_request", _l("Will you bear a line of journey %(journey)s?"),
    _l("%(member)s is asked to pay for %(item)s in journey %(journey)s: %(amount)s, "
       "instead of the patient. Only your member decides. Accept or decline:\n%(link)s"),
    _bearing_params)
notices.register(
    "bearing_decided", _l("%(member)s has answered: %(status)s"),
    _l("You asked %(member)s to pay for %(item)s (%(amount)s) in journey %(journey)s. "
       "Its answer: %(status)s.\n%(link)s"),
    _bearing_params)
