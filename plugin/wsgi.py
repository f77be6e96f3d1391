"""gunicorn entry point: `gunicorn plugin.wsgi:app`."""

from plugin import create_app

app = create_app()
