"""API shapes of the token endpoint and the key set."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from registry.auth.assertions import ASSERTION_TYPE


class GrantType(StrEnum):
    client_credentials = "client_credentials"


class ClientAssertionType(StrEnum):
    jwt_bearer = ASSERTION_TYPE


class TokenRequest(BaseModel):
    """The form of `POST /oauth/token` (RFC 6749 §4.4), as `application/x-www-form-urlencoded`.
    Documentation only: the route reads the form itself (repeated parameters are refused)."""

    grant_type: GrantType
    scope: str | None = Field(default=None, description="Space-separated subset of the client's scopes")
    client_id: str | None = Field(default=None, description="client_secret_post (optional with private_key_jwt)")
    client_secret: str | None = Field(default=None, description="client_secret_post only")
    client_assertion_type: ClientAssertionType | None = Field(default=None, description="private_key_jwt only")
    client_assertion: str | None = Field(default=None, description="private_key_jwt: the signed JWT (RFC 7523)")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "grant_type": "client_credentials",
                    "scope": "exposure:read",
                    "client_id": "brc_5f0c2a9d41e8b7c3",
                    "client_secret": "brs_Qm9yb3dlclJlZ2lzdHJ5U2VjcmV0RXhhbXBsZTE",
                }
            ]
        }
    )


class TokenResponse(BaseModel):
    access_token: str = Field(examples=["eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9..."])
    token_type: str = Field(default="Bearer", examples=["Bearer"])
    expires_in: int = Field(examples=[900])
    scope: str = Field(examples=["exposure:read records:read records:write"])

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9.eyJpc3MiOi4uLn0.c2ln",
                    "token_type": "Bearer",
                    "expires_in": 900,
                    "scope": "exposure:read",
                }
            ]
        }
    )


class OAuthErrorBody(BaseModel):
    """RFC 6749 §5.2 error, with the RFC 9457 problem fields alongside."""

    error: str = Field(examples=["invalid_client"])
    error_description: str = Field(examples=["Client authentication failed"])
    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None


JWK_EXAMPLE = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
    "alg": "EdDSA",
    "use": "sig",
}


class Jwk(BaseModel):
    kty: str = Field(examples=["OKP"])
    crv: str = Field(examples=["Ed25519"])
    x: str
    kid: str
    alg: str = Field(examples=["EdDSA"])
    use: str = Field(examples=["sig"])

    model_config = ConfigDict(json_schema_extra={"examples": [JWK_EXAMPLE]})


class JwkSet(BaseModel):
    keys: list[Jwk]

    model_config = ConfigDict(json_schema_extra={"examples": [{"keys": [JWK_EXAMPLE]}]})
