"""Structured logs: one JSON object per line (time, level, logger, message, request_id and
any `extra` fields), or plain text for humans. `registry serve` applies `log_config()` to the
service and uvicorn's loggers once per process; the request id of the request being served
reaches every line through a context variable set by the access-log middleware.

What is logged is chosen, never dumped: the access log carries method, route template,
status, duration and request id (no query string, header or body), and `extra` fields
whose names suggest a token, secret or amount are redacted as a last guard."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from registry.config import LogFormat, Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",
    "request_id",
    "extras",
}
_SENSITIVE = ("token", "secret", "password", "authorization", "cookie", "amount")
REDACTED = "[redacted]"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: REDACTED if any(word in key.lower() for word in _SENSITIVE) else value
        for key, value in record.__dict__.items()
        if key not in _STANDARD and not key.startswith("_")
    }


def _request_id(record: logging.LogRecord) -> str | None:
    return getattr(record, "request_id", None) or REQUEST_ID.get()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id(record),
        }
        line.update(_extras(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s%(extras)s")

    def format(self, record: logging.LogRecord) -> str:
        extras = _extras(record)
        record.__dict__.setdefault("request_id", REQUEST_ID.get() or "-")
        record.extras = (" " + " ".join(f"{k}={v}" for k, v in extras.items())) if extras else ""
        return super().format(record)


def log_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the service and uvicorn: everything to stderr in the
    configured format. uvicorn's own access log is off (the service writes its own lines,
    which hold the route template instead of the raw path and query string)."""
    level = settings.log_level.upper()
    formatter = JsonFormatter if settings.log_format is LogFormat.json else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "alembic.runtime.plugins": {"level": "WARNING"},  # a line per plugin in every worker
        },
    }
