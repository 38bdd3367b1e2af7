"""Python SDK of the Borrower Registry: hash identities, report and upload records, ask for
exposure, watch borrowers and read their alerts, verify webhook deliveries.

from registry_client import RegistryClient
client = RegistryClient()  # REGISTRY_URL, REGISTRY_CLIENT_ID, ... from the environment
token = client.subject("cn_resident_id", "11010519491231002X")
"""

from registry_client import webhooks
from registry_client._assertions import public_jwk
from registry_client._base_client import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    APIResponse,
    CallOptions,
)
from registry_client._client import AsyncRegistryClient, RegistryClient
from registry_client._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    RegistryError,
    ServerError,
    UnprocessableEntity,
    WebhookSignatureError,
)
from registry_client._version import __version__
from registry_client.identity import InvalidIdentity
from registry_client.pagination import AsyncCursorPaginator, CursorPage, SyncCursorPaginator

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIResponse",
    "APIStatusError",
    "APITimeoutError",
    "AsyncCursorPaginator",
    "AsyncRegistryClient",
    "AuthenticationError",
    "BadRequest",
    "CallOptions",
    "Conflict",
    "CursorPage",
    "InvalidIdentity",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RegistryClient",
    "RegistryError",
    "ServerError",
    "SyncCursorPaginator",
    "UnprocessableEntity",
    "WebhookSignatureError",
    "__version__",
    "public_jwk",
    "webhooks",
]
