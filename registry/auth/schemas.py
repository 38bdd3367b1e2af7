"""API shapes of the token endpoint and the key set."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TokenResponse(BaseModel):
    access_token: str = Field(examples=["eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9..."])
    token_type: str = Field(default="Bearer", examples=["Bearer"])
    expires_in: int = Field(examples=[900])
    scope: str = Field(examples=["exposure:read records:read records:write"])


class OAuthErrorBody(BaseModel):
    """RFC 6749 §5.2 error, with the RFC 9457 problem fields alongside."""

    error: str = Field(examples=["invalid_client"])
    error_description: str = Field(examples=["Client authentication failed"])
    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None


class Jwk(BaseModel):
    kty: str = Field(examples=["OKP"])
    crv: str = Field(examples=["Ed25519"])
    x: str
    kid: str
    alg: str = Field(examples=["EdDSA"])
    use: str = Field(examples=["sig"])


class JwkSet(BaseModel):
    keys: list[Jwk]
