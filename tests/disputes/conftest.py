"""The dispute tests' world: one borrower, four lenders (see `world`)."""

import pytest

from tests.disputes.support import NOW, delinquent
from tests.factories import item, submit, token


@pytest.fixture
async def world(http, registry, clock):
    """A (a lender asked by the borrower) holds a current account; B and C hold delinquent
    ones; C also a current one. D has nothing to do with the borrower."""
    clock.set(NOW)
    a, b, c, d = [await registry.member() for _ in range(4)]
    s = token()
    ids = {}
    for member, items in (
        (a, [item(s, "A-1")]),
        (b, [delinquent(s, "B-1")]),
        (c, [delinquent(s, "C-1"), item(s, "C-2", product="credit_card")]),
    ):
        r = await submit(http, member, *items)
        assert r.status_code == 200, r.text
        ids.update({x["account_ref"]: x["record_id"] for x in r.json()["results"]})
    return {"a": a, "b": b, "c": c, "d": d, "subject": s, "ids": ids}
