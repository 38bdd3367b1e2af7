"""Rules of vehicle watches (`POST /v1/watches` with `"kind": "vehicle"`): a member watches the
vehicle of one of its own live accounts, and is alerted when the vehicle appears on another
member's account. Kept like borrower watches: the key, and the token sealed for the member;
a watch is in force only while the member holds a live account on the vehicle."""

from __future__ import annotations

from registry.collateral import repository
from registry.context import MemberContext
from registry.core.errors import FieldError, Forbidden, Invalid, NotFound
from registry.core.pagination import Page, id_cursor
from registry.core.subjects import is_token
from registry.monitoring.schemas import WatchBatchResult, WatchCreate, WatchOut
from registry.monitoring.service import int_cursor, open_subject, seal_subject


async def add_vehicle_watches(ctx: MemberContext, body: WatchCreate) -> WatchBatchResult:
    server_key, member_id = ctx.runtime.keys.server_key, ctx.tenant.member_id
    tokens = list(dict.fromkeys(t.lower() for t in body.subjects))
    keys = ctx.subjects.keys(tokens)
    sealed = [seal_subject(server_key, member_id, k, t) for t, k in zip(tokens, keys, strict=True)]
    added = await repository.add_vehicle_watches(ctx.conn, ctx.tenant, keys, sealed, body.label, ctx.today)
    ctx.audit.resource = "watches:vehicle"
    refused = [tokens[row.ord - 1] for row in added if not row.held]
    if refused:
        ctx.audit.details = {"vehicles": len(tokens), "refused": len(refused)}
        raise Forbidden(
            f"You can watch only vehicles of your own live accounts; {len(refused)} vehicle(s) back none. "
            "Nothing was watched.",
            errors=[FieldError(field="subjects", message=f"no live account of yours: {t}") for t in refused[:1000]],
        )
    created = sum(1 for row in added if row.created)
    result = WatchBatchResult(created=created, existing=len(added) - created)
    ctx.audit.details = {"kind": "vehicle", **result.model_dump()}
    return result


async def list_vehicle_watches(ctx: MemberContext, *, cursor: str | None, limit: int) -> Page[WatchOut]:
    after = int_cursor(cursor, 1)
    server_key, member_id = ctx.runtime.keys.server_key, ctx.tenant.member_id
    found = await repository.list_vehicle_watches(
        ctx.conn, ctx.tenant, after_id=after[0] if after else 0, limit=limit + 1, today=ctx.today
    )
    return Page[WatchOut].from_rows(
        found,
        limit,
        lambda r: WatchOut(
            subject=open_subject(server_key, member_id, r.vehicle_key, r.vehicle_sealed),
            label=r.label,
            created_at=r.created_at,
        ),
        id_cursor,
    )


async def remove_vehicle_watch(ctx: MemberContext, vehicle: str) -> None:
    ctx.audit.resource = "watch:vehicle"
    if not is_token(vehicle):
        raise Invalid(
            "subject must be a 64-hex-character token", errors=[FieldError(field="subject", message="not a token")]
        )
    if not await repository.delete_vehicle_watch(ctx.conn, ctx.tenant, ctx.subjects.key(vehicle)):
        raise NotFound("You do not watch that vehicle")
