"""Account pages: log in, register, log out (cookie sessions via Flask-Login), the
profile, and the language switcher every page carries."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from journey.core.accounts import services
from journey.core.accounts.auth import current_actor
from journey.core.accounts.forms import LoginForm, RegisterForm
from journey.pages.common import (
    available_currencies,
    chosen_currency,
    login_required,
    page_locale,
    safe_next,
    submit,
)
from journey.pages.forms import PreferencesForm, ProfileForm, as_choices, language_choices

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    user, status = submit(form, lambda: services.authenticate(
        form.email.data, form.password.data, ip=request.remote_addr))
    if user is not None:
        login_user(user)
        flash(_("Welcome, %(name)s.", name=user.full_name))
        return redirect(safe_next(request.args.get("next"), url_for("main.home")))
    return render_template("accounts/login.html", form=form), status


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    user, status = submit(form, lambda: services.register_patient(
        email=form.email.data, password=form.password.data, full_name=form.full_name.data,
        locale=form.locale.data))
    if user is not None:
        login_user(user)
        flash(_("Your account is ready."))
        return redirect(url_for("main.home"))
    return render_template("accounts/register.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    return redirect(url_for("main.home"))


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
    saved, status = submit(form, lambda: services.update_profile(
        actor, full_name=form.full_name.data, locale=form.locale.data,
        currency=form.currency.data))
    if saved is not None:
        session["lang"] = form.locale.data
        flash(_("Your profile is saved."))
        return redirect(url_for("accounts.profile"))
    return render_template("patient/profile.html", form=form), status


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
