"""The package version, in one place (hatch reads it; CHANGELOG.md says what changed)."""

__version__ = "0.3.1"
