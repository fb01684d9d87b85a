"""The real application as `rouptimize serve-api` sets it up, for bench/branches_list.py.

`uvicorn rest_compat.asgi:app` alone would answer 500 to every database request: the engines are
configured by `app.core.embedded.bootstrap()` (`app.core.db.configure`), which only the CLI calls.
This module does what `serve-api` does before it hands `rest_compat.asgi:app` to uvicorn: JSON
logging, then bootstrap without migrations from DATABASE_URL / APP_DATABASE_URL / REDIS_URL.
Serve with: uvicorn --app-dir bench real_app:app
"""

from __future__ import annotations

from app.core.embedded import bootstrap
from app.core.logging import configure_logging
from app.settings import get_settings

configure_logging(get_settings().log_level)
bootstrap(migrate=False)

from rest_compat.asgi import app  # noqa: E402

__all__ = ["app"]
