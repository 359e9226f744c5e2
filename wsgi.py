"""WSGI entry point: ``gunicorn wsgi:app``."""

from journey.app import create_app, freeze_start_up

app = create_app()
freeze_start_up()
