"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from console import create_app

app = create_app()
