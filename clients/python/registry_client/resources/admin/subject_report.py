"""`client.admin.subject_report`: what the registry holds about one borrower and who looked
them up, for the borrower's access request: as data, or as a printable page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

import httpx

from registry_client._base_client import CallOptions, Flow, RequestOptions
from registry_client.resources._resource import Resource
from registry_client.resources._subjects import checked_subjects
from registry_client.types.subject_report import SubjectReport

if TYPE_CHECKING:
    from registry_client._base_client import AsyncAPIClient, SyncAPIClient

PATH = "/admin/subject-report"


def _body(subject: str) -> dict[str, str]:
    # Refused here if it is not a token: a raw identity never leaves the machine.
    return {"subject": checked_subjects([subject])[0]}


class _SubjectReportBase(Resource):
    def _get_flow(self, subject: str) -> Flow[SubjectReport]:
        return self._client._model_flow(SubjectReport, "POST", PATH, json=_body(subject))

    def _html_flow(self, subject: str, language: str | None) -> Flow[httpx.Response]:
        headers = {"Accept": "text/html"}
        if language:
            headers["Accept-Language"] = language
        return self._client._request_flow(
            RequestOptions("POST", PATH, json=_body(subject), headers=headers)
        )


class SubjectReports(_SubjectReportBase):
    _client: SyncAPIClient

    def get(self, subject: str, **options: Unpack[CallOptions]) -> SubjectReport:
        """Every live record about the subject (a brs1 token) with its institution, and every
        inquiry of the last 24 months."""
        return self._client._run(self._get_flow(subject), options)

    def html(
        self, subject: str, *, language: str | None = None, **options: Unpack[CallOptions]
    ) -> str:
        """The same as a printable HTML page to hand to the borrower (`language`: an
        Accept-Language value, e.g. `zh` or `en`, where the registry offers several)."""
        return self._client._run(self._html_flow(subject, language), options).text


class AsyncSubjectReports(_SubjectReportBase):
    _client: AsyncAPIClient

    async def get(self, subject: str, **options: Unpack[CallOptions]) -> SubjectReport:
        """See `SubjectReports.get`."""
        return await self._client._run(self._get_flow(subject), options)

    async def html(
        self, subject: str, *, language: str | None = None, **options: Unpack[CallOptions]
    ) -> str:
        """See `SubjectReports.html`."""
        return (await self._client._run(self._html_flow(subject, language), options)).text
