"""Account pages: log in, register, log out (cookie sessions via Flask-Login)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from journey.core.accounts import services
from journey.core.accounts.forms import LoginForm, RegisterForm
from journey.pages.common import safe_next, submit

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    cfg = current_app.config
    user, status = submit(form, lambda: services.authenticate(
        form.email.data, form.password.data, ip=request.remote_addr,
        limit=cfg["LOGIN_FAILURE_LIMIT"],
        window=timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"])))
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
