"""The application factory: a flat list of ``configure_*`` steps."""

from __future__ import annotations

import gc
from pathlib import Path

import swagger_ui_bundle
from flask import Flask, jsonify, request, send_from_directory
from flask_babel import gettext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from journey.core import validation
from journey.core.api import location_of
from journey.core.config import load_config
from journey.core.errors import Busy, Conflict, DomainError, http_message, translate_messages
from journey.core.extensions import api, babel, csrf, db, login_manager, migrate
from journey.core.i18n import content_language_header, select_locale
from journey.core.persistence import keep_long_statements_parsed, write_kept_rows
from journey.core.safe_json import SafeJSONProvider, SafeRequest
from journey.core.security import configure_security
from journey.core.types import StrEnumType, UTCDateTime


def freeze_start_up() -> None:
    """Keep what start-up made (the modules, the app, its tables and catalogs: some
    350,000 objects that live as long as the process) out of the garbage collector's
    full passes, each of which would otherwise walk all of it (about 0.2 s, every few
    requests of a large page). Called once by the serving entry points after the app
    is made (``wsgi.py``), not by :func:`create_app`, which tests call many times."""
    gc.collect()
    gc.freeze()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.update(load_config(config))
    # JSON bodies are read within limits (depth, number size, NUL, lone surrogates).
    app.request_class = SafeRequest
    app.json = SafeJSONProvider(app)
    configure_database(app)
    configure_i18n(app)
    configure_auth(app)
    configure_api(app)
    configure_pages(app)
    configure_cli(app)
    configure_request_edge(app)
    configure_security(app)
    if app.config["RUN_SCHEDULER"]:
        from journey.scheduler import start_in_background

        start_in_background(app)
    return app


def _include_in_migrations(name, type_, parent_names):
    return not (type_ == "table" and name and name.startswith("apscheduler_"))


def _render_migration_item(type_, obj, autogen_context):
    """Write the project's column types into migrations as the plain types they store."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, StrEnumType):
        return f"sa.String(length={obj.impl.length})"
    return False


def configure_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # A lock that cannot be had within a few seconds is "busy, try again" (503).
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    lock_timeout = app.config["DB_LOCK_TIMEOUT_SECONDS"]
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {}).setdefault("timeout", lock_timeout)
    elif uri.startswith("postgresql"):
        options.setdefault("connect_args", {}).setdefault(
            "options", f"-c lock_timeout={int(lock_timeout * 1000)}")
        keep_long_statements_parsed()
    db.init_app(app)
    # Import every model so that metadata (and Alembic) sees the whole schema.
    import bookings.models  # noqa: F401
    import journey.aftercare.models  # noqa: F401
    import journey.builder.models  # noqa: F401
    import journey.case.models  # noqa: F401
    import journey.core.accounts.models  # noqa: F401
    import journey.figures.models  # noqa: F401
    import journey.insurance.models  # noqa: F401
    import journey.invoicing.models  # noqa: F401
    import journey.messages.models  # noqa: F401
    import journey.reviews.models  # noqa: F401
    import journey.scheduler  # noqa: F401  (the scheduler's lease table)
    import journey.trip.models  # noqa: F401
    import providers.media.models  # noqa: F401
    import providers.models  # noqa: F401
    from bookings.reasons import BOOKING_REASONS
    from bookings.services.audit import booking_moved, ledger_posted, line_moved
    from bookings.services.settlement import read_payout_delay_from
    from bookings.services.usage import USAGE_SOURCES
    from journey.builder.reasons import JOURNEY_REASONS
    from journey.builder.services.settings import get_settings
    from journey.core.reasons import register_reasons
    from journey.figures.rollup import record_posting
    from journey.reviews.services.ratings import rating_table
    from journey.trip.services.progress import follow_booking_and_tasks, follow_booking_tasks
    from providers.services.availability import register_usage_sources
    from providers.services.search import register_rating_source

    # Wiring across the layers, explicitly: the catalogue counts what the booking engine
    # holds and books, and a journey follows its booking.
    register_usage_sources(*USAGE_SOURCES)
    # ...and ranks by the published reviews' ratings.
    register_rating_source(rating_table)
    # The members' payout delay is the admin's cluster setting.
    read_payout_delay_from(lambda: get_settings().payout_delay_days)
    # ...and its logistics tasks after it (one receiver: blinker keeps no order among
    # the receivers of a signal, and the tasks read the journey's new state).
    booking_moved.connect(follow_booking_and_tasks)
    line_moved.connect(follow_booking_tasks)
    # The figures keep the ledger's monthly sums as it is posted.
    ledger_posted.connect(record_posting)
    register_reasons(BOOKING_REASONS, JOURNEY_REASONS)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            from sqlalchemy import event

            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
                cursor.close()
        elif db.engine.dialect.driver == "psycopg":
            from sqlalchemy import event

            event.listen(db.engine, "connect", steady_integer_parameters)

    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True, compare_type=True, include_name=_include_in_migrations,
                     render_item=_render_migration_item)


def steady_integer_parameters(dbapi_connection, _record) -> None:
    """Send every Python ``int`` parameter as ``bigint``.

    psycopg picks the smallest integer type that holds each value (``smallint`` for
    an id below 32,768, ``integer`` above it), and it keys its prepared statements by
    the statement's text *and* those types. So the same statement with a small id and
    then a large one counted as two statements, and a quote's statements were almost
    never prepared: PostgreSQL parsed and planned them again on every request. The
    statements SQLAlchemy writes cast each parameter to its column's type, and
    PostgreSQL compares ``bigint`` with ``integer`` columns through their indexes.
    """
    from psycopg.types.numeric import Int8Dumper

    dbapi_connection.adapters.register_dumper(int, Int8Dumper)


def configure_i18n(app: Flask) -> None:
    from journey.builder.services.settings import cluster_languages

    validation.install()
    babel.init_app(app, locale_selector=select_locale)
    app.extensions["cluster_languages"] = cluster_languages


def configure_auth(app: Flask) -> None:
    from journey.core.accounts import auth

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    auth.install(app)
    csrf.init_app(app)


def configure_api(app: Flask) -> None:
    api.init_app(app)
    # flask-smorest's handler drops headers such as Allow on 405; keep them, and
    # translate field messages.
    api.handle_http_exception = _handle_api_http_exception
    app.register_error_handler(HTTPException, _dispatch_http_exception)

    from bookings.api import blp as bookings_blp
    from bookings.api import stripe_blp
    from journey.aftercare.api import blp as aftercare_blp
    from journey.builder.api import blp as journeys_blp
    from journey.case.api import blp as case_blp
    from journey.core.accounts.api import blp as accounts_blp
    from journey.core.accounts.invitations_api import blp as account_links_blp
    from journey.insurance.api import blp as insurance_blp
    from journey.invoicing.api import blp as invoicing_blp
    from journey.messages.api import blp as messages_blp
    from journey.reviews.api import blp as reviews_blp
    from journey.trip.api import blp as trip_blp
    from journey.trip.calendar_api import blp as calendar_blp
    from providers.api import blueprints as provider_blueprints

    for blueprint in (accounts_blp, account_links_blp, *provider_blueprints, journeys_blp,
                      case_blp, trip_blp, calendar_blp, messages_blp, aftercare_blp, reviews_blp,
                      invoicing_blp, insurance_blp, bookings_blp, stripe_blp):
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
        csrf.exempt(blueprint)

    assets = swagger_ui_bundle.swagger_ui_path

    @app.get("/api/swagger-ui-assets/<path:filename>")
    def swagger_ui_assets(filename):
        return send_from_directory(assets, filename, max_age=86400)

    @app.get("/healthz")
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
        except OperationalError:
            return jsonify(status="error", database="unreachable"), 503
        return jsonify(status="ok", database=db.engine.dialect.name)


def configure_pages(app: Flask) -> None:
    from journey import views
    from journey.pages import (
        accounts,
        admin,
        aftercare,
        coordinator,
        figures,
        insurance,
        invoicing,
        itinerary,
        layout,
        letters,
        media,
        messages,
        reviews,
    )
    from journey.pages.member import offers, pictures, requests, statement
    from journey.pages.patient import booking, catalogue, quote
    from journey.pages.patient import journey as planner
    from journey.trip import calendar_feed

    for pages in (views, layout, accounts,  # every page's frame
                  catalogue, planner, quote, booking,  # the patient's
                  requests, offers, statement,  # the member portal
                  coordinator, admin, calendar_feed, itinerary, letters, messages, aftercare,
                  invoicing, insurance, media, pictures, reviews, figures):
        app.register_blueprint(pages.bp)


def configure_cli(app: Flask) -> None:
    from journey.cli import register

    register(app)


def _is_api_request() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _handle_api_http_exception(error: HTTPException):
    body = {"code": error.code, "status": error.name}
    data = getattr(error, "data", None) or {}
    if "messages" in data:
        body["errors"] = translate_messages(data["messages"])
        body["message"] = gettext("Some fields are not valid.")
    else:
        body["message"] = http_message(error)
    response = jsonify(body)
    response.status_code = error.code
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response




def _dispatch_http_exception(error: HTTPException):
    # Whatever failed may have left the session unusable; the answer must not need it
    # (the reader's locale, the user behind the cookie) in that state.
    db.session.rollback()
    if _is_api_request():
        return _handle_api_http_exception(error)
    from journey.views import render_http_error

    return render_http_error(error)


def configure_request_edge(app: Flask) -> None:
    """One transaction per request: commit when the response is a success, else roll back."""

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        db.session.rollback()
        if _is_api_request():
            response = jsonify(error.to_dict())
            response.status_code = error.status
            response.headers.update(error.headers)
            return response
        from journey.views import render_domain_error

        return render_domain_error(error)

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error: IntegrityError):
        # A safety net: services check what they can, the database has the last word
        # (a row written concurrently, a reference that vanished). Never a 500.
        db.session.rollback()
        return handle_domain_error(Conflict())

    @app.errorhandler(OperationalError)
    def handle_operational_error(error: OperationalError):
        # A lock that cannot be had (SQLite "database is locked", PostgreSQL lock
        # timeout) is "busy, try again", never a 500.
        db.session.rollback()
        if is_lock_error(error):
            return handle_domain_error(Busy(headers={"Retry-After": "1"}))
        raise error

    @app.after_request
    def commit_or_roll_back(response):
        if response.status_code < 400:
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                return handle_domain_error(Conflict())
            except OperationalError as error:
                db.session.rollback()
                if not is_lock_error(error):
                    raise
                return handle_domain_error(Busy(headers={"Retry-After": "1"}))
            write_kept_rows(rolled_back=False)
        else:
            db.session.rollback()
            write_kept_rows(rolled_back=True)
        if _is_api_request():
            response.headers.setdefault("Content-Language",
                                        content_language_header(page=False))
            if response.status_code == 201 and "Location" not in response.headers:
                location = location_of(response)
                if location:
                    response.headers["Location"] = location
        elif response.mimetype == "text/html":
            response.headers.setdefault("Content-Language", content_language_header(page=True))
        return response


#: PostgreSQL's answers that mean "try again": a deadlock (one of the two transactions is
#: rolled back), a serialisation failure, a lock not available (NOWAIT, lock_timeout).
RETRY_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def is_lock_error(error: OperationalError) -> bool:
    """A lock that could not be had, or a transaction the database rolled back for
    another's sake (a deadlock): "busy, try again" (503), not a 500."""
    if getattr(error.orig, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    message = str(error.orig).lower() if error.orig is not None else ""
    return any(text in message for text in ("database is locked", "lock timeout",
                                            "could not obtain lock", "deadlock detected"))

