"""Account pages: log in, register, log out (cookie sessions via Flask-Login), the
links sent by e-mail (a new password, an invitation, the address's confirmation), the
profile, and the language switcher every page carries."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from journey.core.accounts import invitations, services, tokens
from journey.core.accounts.auth import current_actor
from journey.core.accounts.forms import (
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    SetPasswordForm,
)
from journey.core.accounts.models import TokenPurpose
from journey.core.i18n import MAX_OTHER_LANGUAGES
from journey.pages.common import (
    available_currencies,
    chosen_currency,
    login_required,
    page_locale,
    safe_next,
    submit,
)
from journey.pages.forms import (
    ActionForm,
    PreferencesForm,
    ProfileForm,
    as_choices,
    language_choices,
    reading_language_choices,
)

bp = Blueprint("accounts", __name__)
TOKEN = "string(minlength=1, maxlength=100):token"  # noqa: S105 - a URL rule


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    user, status = submit(form, lambda: services.authenticate(
        form.email.data, form.password.data, ip=request.remote_addr))
    if user is not None:
        login_user(user)
        flash(_("Welcome, %(name)s.", name=user.full_name))
        return redirect(safe_next(request.args.get("next"), landing_for(user)))
    return render_template("accounts/login.html", form=form), status


def landing_for(user) -> str:
    """Where a login leads when nothing else was asked: each role to its own work (a
    patient to their journeys, a member's staff to the portal, the cluster to its
    board, an admin to the admin's overview)."""
    role = user.role.value
    if role in ("member_staff", "member_manager"):
        return url_for("member.index")
    if role == "coordinator":
        return url_for("coordinator.board")
    if role == "admin":
        return url_for("admin.index")
    return url_for("journey.index")


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if request.method == "GET":
        form.locale.data = page_locale()
    form.locale.choices = as_choices(language_choices())
    done, status = submit(form, lambda: invitations.register(
        email=form.email.data, password=form.password.data, full_name=form.full_name.data,
        locale=form.locale.data, ip=request.remote_addr))
    if done is not None:
        # The same answer when the address had an account without a password (its
        # owner is sent a link to set one): only a new account is logged in.
        if done.user is not None:
            login_user(done.user)
        flash(_("Welcome! We have sent a link to %(email)s: follow it to confirm your "
                "address.", email=services.normalize_email(form.email.data)))
        return redirect(url_for("main.home"))
    return render_template("accounts/register.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    return redirect(url_for("main.home"))


# --- links sent by e-mail ------------------------------------------------------------------

def _private(body: str, status: int = 200) -> Response:
    """A page whose address holds a link's token: kept out of caches and Referer."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _invalid_link():
    return _private(render_template("accounts/link_invalid.html"), 410)


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """Ask for a link to set a new password. The answer is the same whether or not the
    address has an account."""
    form = ForgotPasswordForm()
    asked, status = submit(form, lambda: invitations.request_password_reset(
        form.email.data, ip=request.remote_addr) or True)
    if asked:
        return render_template("accounts/check_email.html",
                               email=services.normalize_email(form.email.data),
                               valid_for=format_timedelta(
                                   tokens.lifetime(TokenPurpose.PASSWORD_RESET)))
    return render_template("accounts/forgot_password.html", form=form), status


def _landing(user) -> str:
    if user.role.is_member:
        return url_for("member.index")
    if user.role.is_cluster:
        return url_for("coordinator.board")
    return url_for("journey.index")


@bp.route("/account/password/<" + TOKEN + ">", methods=["GET", "POST"])
def set_password(token):
    """Set a password with an invitation or a reset link (used once)."""
    link = invitations.password_link(token)
    if link is None:
        return _invalid_link()
    invited = link.purpose == TokenPurpose.INVITATION
    account = link.user
    form = SetPasswordForm()
    user, status = submit(form, lambda: invitations.set_password(token, form.password.data))
    if user is not None:
        login_user(user)
        flash(_("Your password is set. Welcome, %(name)s.", name=user.full_name))
        return redirect(_landing(user))
    return _private(render_template("accounts/set_password.html", form=form, invited=invited,
                                    account=account), status)


@bp.route("/account/verify/<" + TOKEN + ">", methods=["GET", "POST"])
def verify_email(token):
    """Confirm the address with the link sent on registering (a button, so that a mail
    scanner opening the link does not use it)."""
    if invitations.verification_link(token) is None:
        return _invalid_link()
    form = ActionForm()
    user, status = submit(form, lambda: invitations.verify_email(token), invalid_status=400)
    if user is not None:
        flash(_("Thank you: your e-mail address %(email)s is confirmed.", email=user.email))
        return redirect(url_for("accounts.profile") if current_actor() else url_for(
            "accounts.login"))
    return _private(render_template("accounts/verify_email.html", form=form), status)


@bp.post("/my/email-verification")
@login_required
def send_verification():
    """The link to confirm the address again, from the profile."""
    actor = current_actor()
    form = ActionForm()
    sent, _status = submit(form, lambda: invitations.send_verification(
        actor, ip=request.remote_addr), invalid_status=400)
    if sent is not None:
        flash(_("We have sent a new link to %(email)s.", email=actor.email))
    else:
        flash(" ".join(str(error) for error in form.form_errors))
    return redirect(url_for("accounts.profile"))


# --- the profile ----------------------------------------------------------------------

#: Empty places for other languages the profile page offers beyond those listed.
SPARE_LANGUAGE_PLACES = 2


@bp.route("/my/profile", methods=["GET", "POST"])
@login_required
def profile():
    actor = current_actor()
    form = ProfileForm(obj=None if request.method == "POST" else actor)
    form.locale.choices = as_choices(language_choices())
    form.currency.choices = as_choices((code, code) for code in available_currencies())
    if request.method == "GET":
        form.locale.data = actor.locale or page_locale()
        form.currency.data = actor.currency or chosen_currency()
    reading_places(form, actor)
    saved, status = submit(form, lambda: services.update_profile(
        actor, full_name=form.full_name.data, locale=form.locale.data,
        currency=form.currency.data,
        other_languages=[entry.data for entry in form.other_languages if entry.data]))
    if saved is not None:
        session["lang"] = form.locale.data
        flash(_("Your profile is saved."))
        return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form, account=actor,
                           verify_form=ActionForm()), status


def reading_places(form: ProfileForm, actor) -> None:
    """The places of the profile's other languages: those listed (or posted), then a
    few empty ones up to the service's limit, each choosing among the languages named
    in the page's language."""
    places = form.other_languages
    filled = sum(1 for entry in places if entry.data)
    wanted = max(SPARE_LANGUAGE_PLACES, min(filled + SPARE_LANGUAGE_PLACES, MAX_OTHER_LANGUAGES))
    while len(places) < wanted:
        places.append_entry("")
    chosen = [*(actor.other_languages or []), *(entry.data for entry in places)]
    choices = reading_language_choices(page_locale(), empty=_("Choose a language"), chosen=chosen)
    for entry in places:
        entry.choices = choices


@bp.post("/preferences")
def preferences():
    """The language switcher: saved to the profile of a logged-in reader, else kept for
    the session; then back to the page the reader was on."""
    form = PreferencesForm()
    target = safe_next(request.form.get("next"), url_for("main.home"))
    if not form.validate():
        flash(" ".join(form.form_errors or [_("Not a valid choice.")]))
        return redirect(target)
    actor = current_actor()
    if actor is not None:
        services.update_profile(actor, locale=form.lang.data)
    session["lang"] = form.lang.data
    return redirect(target)
