"""A live server for the interoperability tests: the SDK tests' own (tests/sdk/conftest.py)."""

from tests.sdk.conftest import live_server

__all__ = ["live_server"]
