"""Account pages: log in, register, log out (cookie sessions via Flask-Login)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from journey.accounts import services
from journey.accounts.forms import LoginForm, RegisterForm
from journey.errors import DomainError, translate_messages
from journey.pages.common import safe_next

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        cfg = current_app.config
        try:
            user = services.authenticate(
                form.email.data, form.password.data, ip=request.remote_addr,
                limit=cfg["LOGIN_FAILURE_LIMIT"],
                window=timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"]))
        except DomainError as error:
            form.form_errors.append(str(error.message))
            status = error.status
        else:
            login_user(user)
            flash(_("Welcome, %(name)s.", name=user.full_name))
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.register_patient(email=form.email.data, password=form.password.data,
                                             full_name=form.full_name.data,
                                             locale=form.locale.data)
        except DomainError as error:
            for field, messages in translate_messages(error.fields).items():
                getattr(form, field).errors = list(getattr(form, field).errors) + messages
            if not error.fields:
                form.form_errors.append(str(error.message))
            status = error.status
        else:
            login_user(user)
            flash(_("Your account is ready."))
            return redirect(url_for("main.home"))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/register.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    return redirect(url_for("main.home"))
