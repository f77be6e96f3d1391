"""Creator balances from a rollup instead of the whole ledger (the dashboard's creator rows, the
creator pages).

Two tables (plugin.models.metrics): per shop, creator and currency, the sum of the entries not
claimed by a payout, claimed by an open payout, and paid (`BalanceTotal`); and the unclaimed
sum per UTC day the entries become payable (`BalanceReleaseDay`). At a moment, what is held is
the days after it plus the entries of its own day still ahead of it (read from the raw rows:
one day's entries at most), and what is available is the rest of the unclaimed sum. Exact at
any moment, without a job moving sums as time passes.

Kept in the transactions that write the raw rows, under the shop's shared rollup lock
(plugin.services.rollup_base), with additive upserts in key order, so concurrent writers
never lose each other's sums: `add_entry` when an entry is posted (written when its transaction
commits), `claim` when a payout claims entries, `paid`/`release` when a payout is paid or
cancelled. `rebuild` recomputes a shop from the raw
rows under the exclusive lock (`tastemaker metrics rebuild`). Shop erasure and creator deletion
drop the rows through their foreign keys, as they drop the entries; customer redaction keeps
the ledger, so the balances stay.

Payouts never decide from these sums: what a batch pays is read from the unclaimed entries
themselves and claimed with a conditional UPDATE (plugin.services.payouts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, delete, event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from plugin.models import BalanceReleaseDay, BalanceTotal, LedgerEntry, Payout
from plugin.services.rollup_base import (
    Upserts,
    before_outermost_commit,
    insert_rows,
    lock_shop_exclusive,
    lock_shops_shared,
)

UNCLAIMED, IN_PAYOUT, PAID = range(3)
_TOTALS = ("unclaimed_minor", "in_payout_minor", "paid_minor")

TotalsDelta = dict[tuple[int, str], list[int]]  # (creator, currency): [unclaimed, in payout, paid]
DaysDelta = dict[tuple[date, int, str], int]  # (release day, creator, currency): unclaimed
# creator: (currency, held, available, in payout, paid), as plugin.services.payouts reports it
Balances = dict[int, tuple[str, int, int, int, int]]


def release_day(available_at: datetime) -> date:
    moment = available_at if available_at.tzinfo else available_at.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


PENDING = "tastemaker.balance_rollups.pending"
# Notes written inside a savepoint (a read in it applied them), kept until the transaction ends:
# should that savepoint roll back, its writes are gone and the notes are pending again.
WRITTEN = "tastemaker.balance_rollups.written"


def add_entry(session: Session, shop_id: int, values: Mapping[str, Any]) -> None:
    """A newly posted entry (never claimed yet): unclaimed, payable on its day.

    Only noted: the notes of a transaction are written together just before it commits
    (`apply_pending`), in one sorted upsert per table, so a worker posting the entries of 50
    orders pays for one, and holds its creators' rows locked only while it commits. A note
    taken inside a savepoint that rolls back is dropped with it.
    """
    transaction = session.get_nested_transaction() or session.get_transaction()
    note = (int(values["creator_id"]), str(values["currency"]), values["available_at"])
    session.info.setdefault(PENDING, []).append(
        (transaction, shop_id, *note, int(values["amount_minor"]))
    )


@before_outermost_commit
def _apply_before_commit(session: Session) -> None:
    apply_pending(session)
    session.info.pop(WRITTEN, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, rolled_back: SessionTransaction) -> None:
    notes = [note for note in session.info.get(PENDING, []) if not _within(note[0], rolled_back)]
    written = []
    for savepoint, note in session.info.pop(WRITTEN, []):
        if not _within(savepoint, rolled_back):
            written.append((savepoint, note))
        elif not _within(note[0], rolled_back):
            notes.append(note)  # its write was undone, the entry itself stays
    session.info[PENDING] = notes
    if written:
        session.info[WRITTEN] = written


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def apply_pending(session: Session) -> None:
    """Write the entries noted in this transaction (before it commits, or before a read)."""
    notes = session.info.pop(PENDING, None)
    if not notes:
        return
    by_shop: dict[int, tuple[TotalsDelta, DaysDelta]] = {}
    for _transaction, shop_id, creator, currency, available_at, amount in notes:
        totals, days = by_shop.setdefault(shop_id, ({}, {}))
        _move(totals, days, creator, currency, available_at, amount, None, UNCLAIMED)
    connection = session.connection()
    lock_shops_shared(connection, by_shop)
    for shop_id, (totals, days) in sorted(by_shop.items()):
        _apply(connection, shop_id, totals, days)
    savepoint = session.get_nested_transaction()
    if savepoint is not None:
        session.info.setdefault(WRITTEN, []).extend((savepoint, note) for note in notes)


def claim(connection: Connection, shop_id: int, entries: Iterable[LedgerEntry]) -> None:
    """Entries a new (pending approval) payout just claimed: from unclaimed to in payout."""
    totals: TotalsDelta = {}
    days: DaysDelta = {}
    for entry in entries:
        _move(totals, days, entry.creator_id, entry.currency, entry.available_at,
              entry.amount_minor, UNCLAIMED, IN_PAYOUT)  # fmt: skip
    lock_shops_shared(connection, [shop_id])
    _apply(connection, shop_id, totals, days)


def paid(connection: Connection, shop_id: int, payout_id: int) -> None:
    """The payout went from open to paid: its entries move from in payout to paid."""
    _payout_moves(connection, shop_id, payout_id, PAID)


def release(connection: Connection, shop_id: int, payout_id: int) -> None:
    """The open payout is cancelled (call before its entries are released): back to unclaimed."""
    _payout_moves(connection, shop_id, payout_id, UNCLAIMED)


def _payout_moves(connection: Connection, shop_id: int, payout_id: int, to: int) -> None:
    totals: TotalsDelta = {}
    days: DaysDelta = {}
    rows = connection.execute(
        select(
            LedgerEntry.creator_id,
            LedgerEntry.currency,
            LedgerEntry.available_at,
            LedgerEntry.amount_minor,
        ).where(LedgerEntry.shop_id == shop_id, LedgerEntry.payout_id == payout_id)
    )
    for creator, currency, available_at, amount in rows:
        _move(totals, days, creator, currency, available_at, amount, IN_PAYOUT, to)
    lock_shops_shared(connection, [shop_id])
    _apply(connection, shop_id, totals, days)


def _move(
    totals: TotalsDelta,
    days: DaysDelta,
    creator: int,
    currency: str,
    available_at: datetime,
    amount: int,
    source: int | None,
    target: int,
) -> None:
    vector = totals.setdefault((creator, currency), [0, 0, 0])
    if source is not None:
        vector[source] -= amount
    vector[target] += amount
    key = (release_day(available_at), creator, currency)
    if UNCLAIMED in (source, target):
        days[key] = days.get(key, 0) + (amount if target == UNCLAIMED else -amount)


def _apply(connection: Connection, shop_id: int, totals: TotalsDelta, days: DaysDelta) -> None:
    dialect = connection.dialect.name
    totals_rows = [
        {"shop_id": shop_id, "creator_id": c, "currency": cur, **dict(zip(_TOTALS, v, strict=True))}
        for (c, cur), v in sorted(totals.items())
    ]
    days_rows = [
        {"shop_id": shop_id, "day": d, "creator_id": c, "currency": cur, "unclaimed_minor": v}
        for (d, c, cur), v in sorted(days.items())
        if v
    ]
    writes = Upserts()
    writes.add(_upsert(dialect, BalanceTotal.__table__), totals_rows)
    writes.add(_upsert(dialect, BalanceReleaseDay.__table__), days_rows)
    writes.run(connection)


@lru_cache(maxsize=8)
def _upsert(dialect: str, table: Any) -> Any:
    statement = insert_rows(dialect, table, tuple(column.name for column in table.columns))
    keys = [column.name for column in table.primary_key.columns]
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={
            column.name: column + statement.excluded[column.name]
            for column in table.columns
            if column.name not in keys
        },
    )


def balances(
    session: Session, shop_id: int, moment: datetime, *, creator_id: int | None = None
) -> Balances:
    """Per creator with entries: (currency, held, available, in payout, paid) at `moment`."""
    apply_pending(session)  # this session's own new entries count in what it reads
    today = release_day(moment)
    midnight = datetime.combine(today + timedelta(days=1), time.min, UTC)
    only = [] if creator_id is None else [BalanceTotal.creator_id == creator_id]
    totals = session.execute(
        select(
            BalanceTotal.creator_id,
            func.max(BalanceTotal.currency),
            func.sum(BalanceTotal.unclaimed_minor),
            func.sum(BalanceTotal.in_payout_minor),
            func.sum(BalanceTotal.paid_minor),
        )
        .where(BalanceTotal.shop_id == shop_id, *only)
        .group_by(BalanceTotal.creator_id)
    ).all()
    held: dict[int, int] = {}
    later_days = select(BalanceReleaseDay.creator_id, func.sum(BalanceReleaseDay.unclaimed_minor))
    rest_of_today = select(LedgerEntry.creator_id, func.sum(LedgerEntry.amount_minor))
    for query, model, conditions in (
        (later_days, BalanceReleaseDay, [BalanceReleaseDay.day > today]),
        (
            rest_of_today,
            LedgerEntry,
            [
                LedgerEntry.payout_id.is_(None),
                LedgerEntry.available_at > moment,
                LedgerEntry.available_at < midnight,
            ],
        ),
    ):
        if creator_id is not None:
            conditions.append(model.creator_id == creator_id)
        grouped = query.where(model.shop_id == shop_id, *conditions).group_by(model.creator_id)
        for creator, amount in session.execute(grouped):
            held[creator] = held.get(creator, 0) + int(amount or 0)
    return {
        creator: (
            currency,
            held.get(creator, 0),
            int(unclaimed) - held.get(creator, 0),
            int(in_payout),
            int(paid_sum),
        )
        for creator, currency, unclaimed, in_payout, paid_sum in totals
    }


def rebuild(session: Session, shop_id: int) -> None:
    """Recompute the shop's balance rows from its ledger and payouts, in this transaction,
    holding the shop's rollup lock exclusively. Memory: one sum per creator and release day."""
    connection = session.connection()
    lock_shop_exclusive(connection, shop_id)
    for model in (BalanceTotal, BalanceReleaseDay):
        connection.execute(delete(model).where(model.shop_id == shop_id))
    totals: TotalsDelta = {}
    days: DaysDelta = {}
    rows = connection.execute(
        select(
            LedgerEntry.creator_id,
            LedgerEntry.currency,
            LedgerEntry.available_at,
            LedgerEntry.amount_minor,
            Payout.status,
        )
        .outerjoin(Payout, Payout.id == LedgerEntry.payout_id)
        .where(LedgerEntry.shop_id == shop_id)
        .execution_options(yield_per=5000)
    )
    for creator, currency, available_at, amount, status in rows:
        if status == "cancelled":  # never left claimed (a cancel releases), and counts nowhere
            totals.setdefault((creator, currency), [0, 0, 0])
            continue
        where = UNCLAIMED if status is None else IN_PAYOUT if status != "paid" else PAID
        _move(totals, days, creator, currency, available_at, amount, None, where)
    _apply(connection, shop_id, totals, days)
