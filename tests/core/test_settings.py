"""Settings and keys: development generates keys safely; production refuses to guess."""

import stat

import pytest
from pydantic import ValidationError

from registry.config import Environment, Settings
from registry.core.keys import KeyConfigurationError, load_keyring


def make(**kwargs):
    return Settings(_env_file=None, **kwargs)  # type: ignore[call-arg]


def test_development_generates_keys_once_with_mode_0600(tmp_path):
    settings = make(data_dir=tmp_path)
    first = load_keyring(settings)
    second = load_keyring(settings)
    assert first.server_key == second.server_key and first.hashing_key == second.hashing_key
    assert first.current_kid == second.current_kid
    for path in (tmp_path / "keys").rglob("*"):
        if path.is_file() and path.name != "current":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert len(first.server_key) == 32 and first.server_key != first.hashing_key


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"database_url": "postgresql://db/registry"},
        {"database_url": "postgresql://db/registry", "server_key": "ab" * 32},
        {"database_url": "postgresql://db/registry", "server_key": "0" * 64, "jwt_private_key": "x"},
        {
            "database_url": "postgresql://db/registry",
            "server_key": "ab" * 32,
            "jwt_private_key": "x",
            "hashing_key": "change-me",
        },
    ],
)
def test_production_refuses_missing_or_default_secrets(kwargs):
    with pytest.raises(ValidationError):
        make(env=Environment.production, **kwargs)


def test_production_accepts_explicit_keys_and_never_generates(tmp_path):
    import secrets

    from registry.core.keys import new_signing_key_pem

    settings = make(
        env=Environment.production,
        data_dir=tmp_path,
        database_url="postgresql://db/registry",
        server_key=secrets.token_hex(32),
        jwt_private_key=new_signing_key_pem().decode(),
    )
    keys = load_keyring(settings)
    assert keys.hashing_key is None
    assert not (tmp_path / "keys").exists()


def test_malformed_keys_are_refused(tmp_path):
    with pytest.raises(KeyConfigurationError):
        load_keyring(make(data_dir=tmp_path, server_key="nothex"))
    with pytest.raises(KeyConfigurationError):
        load_keyring(make(data_dir=tmp_path, server_key="ab" * 31))
    with pytest.raises(KeyConfigurationError):
        load_keyring(
            make(data_dir=tmp_path, jwt_private_key="-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----")
        )


def test_every_setting_is_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    missing = [name for name in Settings.model_fields if f"REGISTRY_{name.upper()}" not in text]
    assert missing == []
