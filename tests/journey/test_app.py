import re

import pytest
from sqlalchemy import BigInteger, bindparam, literal_column, select

from journey.app import create_app
from journey.core.config import load_config
from journey.core.extensions import db


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["database"] in {"sqlite", "postgresql"}


def test_production_refuses_to_start_without_a_secret(monkeypatch):
    monkeypatch.setenv("ONEWINDOW_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config()


def test_configuration_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db.invalid/x")
    monkeypatch.setenv("DB_LOCK_TIMEOUT_SECONDS", "7.5")
    config = load_config()
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.invalid/x"
    assert config["DB_LOCK_TIMEOUT_SECONDS"] == 7.5


def test_openapi_document_and_swagger_ui_are_served_locally(client):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    assert spec.json["openapi"].startswith("3.")
    assert "/api/v1/offers" in spec.json["paths"]
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Every script and stylesheet comes from this server, none from a CDN.
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    assert all(u.startswith("/") for u in urls), urls
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_method_not_allowed_keeps_the_allow_header(client):
    response = client.delete("/api/v1/auth/register")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.json["code"] == 405


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json


def test_unknown_page_is_html_404(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert "text/html" in response.content_type


def test_home_page_renders(client, make):
    make.member(name="Vilnius Knee Centre")
    response = client.get("/?lang=lt")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'lang="lt"' in body
    assert "Vilnius Knee Centre" in body


def test_arabic_pages_are_right_to_left(client):
    body = client.get("/?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in body


def test_app_factory_accepts_overrides(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "TESTING": True})
    assert app.config["TESTING"] is True


def test_error_pages_speak_the_readers_language(client):
    """Werkzeug's own texts are English: the page shows the catalog's instead."""
    page = client.get("/no/such/page?lang=de")
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "The requested URL was not found" not in html and "Nicht gefunden." in html
    assert 'lang="de"' in html


def test_a_statement_is_prepared_once_whatever_the_size_of_its_integers(ctx):
    """psycopg keys its prepared statements by their parameters' types too, and would
    send an id below 32,768 as smallint and one above as integer: the same statement
    then counted as two and was seldom prepared (journey.app.steady_integer_parameters)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's (psycopg)")
    connection = db.session.connection()
    statement = select(bindparam("n", type_=BigInteger()) + 1).where(
        literal_column("'steady-integer-probe'") != "")
    answers = [connection.execute(statement, {"n": n}).scalar_one()
               for n in [1, 40_000, 3_000_000_000] * 4]
    assert answers[:3] == [2, 40_001, 3_000_000_001]
    prepared = connection.exec_driver_sql(
        "SELECT count(*) FROM pg_prepared_statements "
        "WHERE statement LIKE '%%steady-integer-probe%%'").scalar_one()
    assert prepared == 1
