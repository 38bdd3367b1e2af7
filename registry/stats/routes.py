"""HTTP of the industry statistics (`GET /admin/stats`, `GET /admin/stats/members/{id}`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from registry.audit.actions import AuditAction
from registry.context import Admin, audited
from registry.core.errors import Forbidden, Invalid, NotFound, Unauthenticated, problem_responses
from registry.stats import service
from registry.stats.schemas import IndustryStats, MemberStats

router = APIRouter(
    prefix="/admin/stats", tags=["admin: statistics"], responses=problem_responses(Unauthenticated, Forbidden)
)

# The aggregates run on pooled connections of their own (see registry/stats/service.py);
# the request's transaction carries the audit row.


@router.get(
    "",
    dependencies=[audited(AuditAction.ADMIN_STATS_READ)],
    summary="Industry statistics, per member and industry-wide",
    description=(
        "Live records by product and status, delinquency and uncollected-delinquency rates with their overdue "
        "sums, reporting timeliness, disputes received and the share upheld, inquiries per day by purpose over "
        "30 days, and loan stacking (subjects with hard inquiries from 3 or more institutions in 30 days)."
    ),
)
async def industry_stats(ctx: Admin) -> IndustryStats:
    return await service.industry(ctx)


@router.get(
    "/members/{member_id}",
    dependencies=[audited(AuditAction.ADMIN_STATS_READ)],
    responses=problem_responses(NotFound, Invalid),
    summary="One member's figures with a 12-month series",
    description=(
        "The member's own figures (records, delinquency and uncollected rates, disputes, inquiries and "
        "stacking among the subjects it asked about) with a month-by-month series of the last 12 months, "
        "oldest first."
    ),
)
async def member_stats(member_id: Annotated[uuid.UUID, Path(description="Member id")], ctx: Admin) -> MemberStats:
    return await service.member(ctx, member_id)
