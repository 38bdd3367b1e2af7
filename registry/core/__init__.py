"""Shared infrastructure: database, errors, keys, request handling, pagination."""
