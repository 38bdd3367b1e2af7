"""The API's resources, each as a sync class and its async twin over shared flows."""

from registry_client.resources.admin import Admin, AsyncAdmin
from registry_client.resources.exposure import AsyncExposure, Exposure
from registry_client.resources.records import AsyncRecords, Records

__all__ = ["Admin", "AsyncAdmin", "AsyncExposure", "AsyncRecords", "Exposure", "Records"]
