"""Authentication and authorization: access tokens, client credentials, scopes."""
