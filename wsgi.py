"""WSGI entry point: ``gunicorn wsgi:app``."""

from journey.app import create_app

app = create_app()
