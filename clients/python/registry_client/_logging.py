"""Debug logging of the SDK's HTTP traffic, turned on with `REGISTRY_LOG=debug` (or `info`).

What is logged: method, path (never the query string), status, request id, timing and
retries. What never is: headers (an access token or Basic credentials), bodies (secrets,
borrower tokens, amounts), the client secret, the private key, the hashing key.
"""

from __future__ import annotations

import logging
import os
import sys

logger = logging.getLogger("registry_client")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}


def configure_from_environment() -> None:
    """Send the SDK's log to stderr when REGISTRY_LOG asks for it; otherwise leave logging to
    the application (the logger has no handler of its own)."""
    level = _LEVELS.get((os.environ.get("REGISTRY_LOG") or "").strip().lower())
    if level is None or any(getattr(h, "_registry_log", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler._registry_log = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
