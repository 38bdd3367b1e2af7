"""Key material: the server key that re-keys subject tokens, the association hashing key,
and the Ed25519 keys that sign access tokens. Loaded from settings; generated under the
data directory (mode 0600) on first start in development, never stored in the database."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from registry.config import Environment, Settings

CURRENT_KID_FILE = "current"


class KeyConfigurationError(RuntimeError):
    """The configured keys are missing or malformed; the service must not start."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, str]:
        """The JWKS entry: PyJWT's own JWK export of the public key, named and pinned to EdDSA."""
        return {**OKPAlgorithm.to_jwk(self.public_key, as_dict=True), "kid": self.kid, "alg": "EdDSA", "use": "sig"}


@dataclass(frozen=True)
class KeyRing:
    server_key: bytes
    hashing_key: bytes | None
    signing_keys: dict[str, SigningKey]
    current_kid: str

    @property
    def signing_key(self) -> SigningKey:
        return self.signing_keys[self.current_kid]


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwk_thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 thumbprint: a stable `kid` derived from the key itself (the required
    members of PyJWT's JWK export, in lexicographic order, without whitespace)."""
    jwk = OKPAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = json.dumps({name: jwk[name] for name in ("crv", "kty", "x")}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def _write_secret_file(path: Path, content: bytes) -> bool:
    """Create `path` with mode 0600 unless it exists; True when this call wrote it.
    O_EXCL makes two processes starting at once agree on one key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return True


def _parse_hex_key(name: str, text: str) -> bytes:
    value = text.strip()
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise KeyConfigurationError(f"{name} must be 64 hexadecimal characters") from None
    if len(raw) != 32:
        raise KeyConfigurationError(f"{name} must be 32 bytes (64 hexadecimal characters)")
    return raw


def _load_symmetric(settings: Settings, name: str, inline, file: Path | None, default_file: str) -> bytes | None:
    if inline is not None:
        return _parse_hex_key(f"REGISTRY_{name.upper()}", inline.get_secret_value())
    if file is not None:
        if not file.exists():
            raise KeyConfigurationError(f"REGISTRY_{name.upper()}_FILE points to a missing file")
        return _parse_hex_key(f"REGISTRY_{name.upper()}_FILE", file.read_text())
    if settings.env is Environment.production:
        return None
    path = settings.keys_dir / default_file
    _write_secret_file(path, secrets.token_hex(32).encode() + b"\n")
    return _parse_hex_key(str(path.name), path.read_text())


def _load_pem(text: bytes, origin: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(text, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(f"{origin} is not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyConfigurationError(f"{origin} must be an Ed25519 key")
    return key


def new_signing_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def signing_keys_dir(settings: Settings) -> Path:
    return settings.jwt_keys_dir or settings.keys_dir / "jwt"


def add_signing_key(directory: Path) -> str:
    """Create a new signing key in `directory` and make it the one that signs; returns its kid."""
    pem = new_signing_key_pem()
    kid = jwk_thumbprint(_load_pem(pem, "new key").public_key())
    _write_secret_file(directory / f"{kid}.pem", pem)
    tmp = directory / f".{CURRENT_KID_FILE}.tmp"
    tmp.write_text(kid + "\n")
    tmp.replace(directory / CURRENT_KID_FILE)
    return kid


def retire_signing_key(directory: Path, kid: str) -> None:
    """Remove a key that no longer signs; tokens it signed stop verifying."""
    current = (directory / CURRENT_KID_FILE).read_text().strip() if (directory / CURRENT_KID_FILE).exists() else None
    if kid == current:
        raise KeyConfigurationError("the current signing key cannot be retired; rotate first")
    path = directory / f"{kid}.pem"
    if "/" in kid or not path.exists():
        raise KeyConfigurationError(f"no signing key {kid}")
    path.unlink()


def signing_keys_stamp(settings: Settings) -> tuple:
    """Changes whenever a key is added, retired or made current (cheap: a few stats)."""
    if settings.jwt_private_key is not None:
        return ()
    directory = signing_keys_dir(settings)
    try:
        return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in directory.iterdir()))
    except FileNotFoundError:
        return ()


def load_signing_keys(settings: Settings) -> tuple[dict[str, SigningKey], str]:
    return _load_signing_keys(settings)


def _load_signing_keys(settings: Settings) -> tuple[dict[str, SigningKey], str]:
    if settings.jwt_private_key is not None:
        key = _load_pem(settings.jwt_private_key.get_secret_value().encode(), "REGISTRY_JWT_PRIVATE_KEY")
        kid = jwk_thumbprint(key.public_key())
        return {kid: SigningKey(kid, key)}, kid
    directory = signing_keys_dir(settings)
    current_file = directory / CURRENT_KID_FILE
    if not current_file.exists():
        if settings.jwt_keys_dir is not None and settings.env is Environment.production:
            raise KeyConfigurationError("REGISTRY_JWT_KEYS_DIR holds no current signing key")
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Two processes may race here; O_EXCL on the pem and an atomic rename keep it consistent.
        add_signing_key(directory)
    keys: dict[str, SigningKey] = {}
    for pem_path in sorted(directory.glob("*.pem")):
        key = _load_pem(pem_path.read_bytes(), pem_path.name)
        kid = jwk_thumbprint(key.public_key())
        keys[kid] = SigningKey(kid, key)
    current = current_file.read_text().strip()
    if current not in keys:
        raise KeyConfigurationError("the current signing key named in the keys directory is missing")
    return keys, current


def load_keyring(settings: Settings) -> KeyRing:
    server_key = _load_symmetric(settings, "server_key", settings.server_key, settings.server_key_file, "server.key")
    if server_key is None:
        raise KeyConfigurationError("REGISTRY_SERVER_KEY or REGISTRY_SERVER_KEY_FILE is required in production")
    hashing_key = _load_symmetric(
        settings, "hashing_key", settings.hashing_key, settings.hashing_key_file, "hashing.key"
    )
    signing_keys, current = _load_signing_keys(settings)
    return KeyRing(server_key=server_key, hashing_key=hashing_key, signing_keys=signing_keys, current_kid=current)
