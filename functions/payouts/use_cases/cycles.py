"""Running, showing and confirming payout cycles (docs/payouts.md, "Cycles").

``run_cycle`` claims the cycle of the latest cut-off (one conditional write), decides and writes
every vendor's line, posts the payouts (entries keyed by cycle and vendor), then marks the cycle
sent. Run again it pays nothing twice: a sent cycle is returned as it is, and a draft (a run
interrupted half way) resumes from its written lines, whose entries a retry cannot post twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from functions.payouts.domain.cycles import (
    MARKED,
    Cycle,
    CycleConflict,
    CycleLine,
    CycleStatus,
    LineStatus,
    answered,
    cycle_id_for,
    final_status,
    latest_cutoff,
    line_entry,
    plan_line,
    recent_credit,
    release_threshold,
    reserve_entry,
    reserve_still_held,
)
from functions.payouts.domain.ledger import Book
from functions.payouts.domain.postings import Refused
from functions.payouts.domain.settlement import payout_failed
from functions.payouts.ports import Ports
from shared.observability import logger
from shared.tenants import TenantSettings

# What happens once the lines are posted and before the cycle is marked sent: the reports and
# the instruction to finance (``use_cases.outputs``), given by the caller.
Send = Callable[[Cycle, list[CycleLine]], object]


class CycleNotFound(LookupError):
    pass


class CyclesInterrupted(RuntimeError):
    """Some tenants' cycles stopped half way (the others ran): each resumes at the next run."""

    def __init__(self, tenants: list[str]) -> None:
        super().__init__(f"payout cycles interrupted for {', '.join(tenants)}")
        self.tenants = tenants


def plan(ports: Ports, tenant: TenantSettings, cutoff: datetime) -> list[CycleLine]:
    """Every vendor's line in every currency it holds money in (nothing posted)."""
    threshold = release_threshold(tenant.payouts, cutoff)
    lines = []
    for version in ports.vendors.current(tenant.id):
        vendor = version.vendor
        books: dict[str, dict[Book, int]] = defaultdict(dict)
        for (currency, book), amount in ports.ledger.balances(tenant.id, vendor.vendor_id).items():
            books[currency][book] = amount
        if not books:
            continue
        # What reached available after the vendor's threshold waits for a later cycle: the
        # tenant's delay days, or the vendor's hold policy's extra days if longer.
        held_since = min(threshold, cutoff - timedelta(days=vendor.hold.extra_days))
        # A reserve is kept ``reserve_days`` from its release: the releases of that window are
        # read too when the vendor holds one.
        reserve_since = cutoff - timedelta(days=vendor.hold.reserve_days)
        reserving = any(book.get(Book.RESERVED, 0) > 0 for book in books.values())
        since = min(held_since, reserve_since) if reserving else held_since
        recent = ports.ledger.entries(tenant.id, vendor.vendor_id, since=since)
        for currency in sorted(books):
            reserved = books[currency].get(Book.RESERVED, 0)
            due = reserved - reserve_still_held(recent, vendor.vendor_id, currency, reserve_since)
            due = max(0, due) if reserved > 0 else 0
            available = books[currency].get(Book.AVAILABLE, 0) + due
            carried = books[currency].get(Book.NEGATIVE_CARRIED, 0)
            if available == 0 and carried == 0:
                continue
            line = plan_line(
                vendor,
                currency,
                available,
                carried,
                recent_credit(recent, vendor.vendor_id, currency, held_since),
                tenant.payouts.minimum_payout,
            )
            lines.append(line.model_copy(update={"reserve_released": due}) if due else line)
    return lines


def run_cycle(
    ports: Ports, tenant: TenantSettings, send: Send | None = None, now: datetime | None = None
) -> Cycle:
    """The cycle of the latest cut-off, run (or resumed) to ``sent``."""
    now = now or ports.clock.now()
    cutoff = latest_cutoff(tenant.payouts, tenant.timezone, now)
    cycle_id = cycle_id_for(cutoff, tenant.timezone)
    cycle = ports.cycles.get(tenant.id, cycle_id)
    if cycle is not None and cycle.status is not CycleStatus.DRAFT:
        return cycle  # run before: nothing is paid twice
    if cycle is None:
        draft = Cycle(tenant=tenant.id, cycle_id=cycle_id, cutoff=cutoff, started_at=now)
        if not ports.cycles.create(draft):
            logger.info("another run claimed the cycle", extra={"cycle": cycle_id})
        cycle = ports.cycles.get(tenant.id, cycle_id) or draft
    resumed = cycle.lines_complete
    if not cycle.lines_complete:
        lines = plan(ports, tenant, cutoff)
        ports.cycles.put_lines(tenant.id, cycle_id, lines)
        payable: dict[str, int] = defaultdict(int)
        for line in lines:
            if line.status is LineStatus.PAYABLE:
                payable[line.currency] += line.amount
        done = cycle.model_copy(
            update={"lines_complete": True, "vendors": len(lines), "payable": dict(payable)}
        )
        ports.cycles.save(done, CycleStatus.DRAFT)
        cycle = done
    else:
        lines = ports.cycles.lines(tenant.id, cycle_id)
    # The lines are written before anything is posted: a resumed run posts the same entries,
    # which the ledger keeps once.
    entries = [reserve_entry(tenant.id, cycle_id, line, now) for line in lines]
    entries += [line_entry(tenant.id, cycle_id, line, now) for line in lines]
    ports.ledger.post(tenant.id, [e for e in entries if e is not None])
    # Stripe Connect mode: the payable lines to connected accounts are paid by transfers now,
    # each recorded on its line (finance is told they are paid, not asked to pay them). Loaded
    # here, when a cycle runs, not by the hourly tick that finds none due.
    from functions.payouts.use_cases.connect import pay_by_transfers

    lines = pay_by_transfers(ports, tenant, cycle, lines, resumed)
    if send is not None:
        send(cycle, lines)
    sent = cycle.model_copy(update={"status": CycleStatus.SENT, "sent_at": now})
    ports.cycles.save(sent, CycleStatus.DRAFT)
    return sent


def cycle_due(ports: Ports, tenant: TenantSettings, now: datetime | None = None) -> bool:
    """Whether the hourly schedule has a cycle to run (or resume) for the tenant."""
    now = now or ports.clock.now()
    cutoff = latest_cutoff(tenant.payouts, tenant.timezone, now)
    cycle = ports.cycles.get(tenant.id, cycle_id_for(cutoff, tenant.timezone))
    return cycle is None or cycle.status is CycleStatus.DRAFT


def show(ports: Ports, tenant: str, cycle_id: str) -> tuple[Cycle, list[CycleLine]]:
    cycle = ports.cycles.get(tenant, cycle_id)
    if cycle is None:
        raise CycleNotFound(f"no payout cycle {cycle_id!r} for {tenant}")
    return cycle, ports.cycles.lines(tenant, cycle_id)


def confirm(
    ports: Ports,
    tenant: str,
    cycle_id: str,
    who: str,
    failed: Mapping[tuple[str, str], str] | None = None,
) -> Cycle:
    """Finance's answer: every payable line paid, except ``failed`` ((currency, vendor) →
    why), whose money returns to the vendor's balance. Once per cycle."""
    cycle, lines = show(ports, tenant, cycle_id)
    failed = dict(failed or {})
    problems = [] if who.strip() else ["a confirmation names who gives it"]
    if cycle.status is not CycleStatus.SENT:
        problems.append(f"cycle {cycle_id} is {cycle.status}, not sent: nothing to confirm")
    payable = {
        (line.currency, line.vendor_id) for line in lines if line.status is LineStatus.PAYABLE
    }
    problems += [
        f"{v} ({c}) has no payable line in {cycle_id}" for c, v in failed if (c, v) not in payable
    ]
    if problems:
        raise Refused(problems)
    now = ports.clock.now()
    answered = []
    for line in lines:
        key = (line.currency, line.vendor_id)
        if line.status is LineStatus.FAILED:
            _give_back(ports, tenant, cycle_id, line, now)  # kept once: heals a mark cut short
            answered.append(line)
        elif line.status is not LineStatus.PAYABLE:
            answered.append(line)
        elif key in failed:
            _give_back(ports, tenant, cycle_id, line, now)
            answered.append(
                line.model_copy(update={"status": LineStatus.FAILED, "reason": failed[key]})
            )
        else:
            answered.append(line.model_copy(update={"status": LineStatus.PAID}))
    ports.cycles.put_lines(tenant, cycle_id, answered)
    done = cycle.model_copy(
        update={
            "status": final_status(answered),
            "confirmed_at": now,
            "confirmed_by": who.strip(),
        }
    )
    try:
        ports.cycles.save(done, CycleStatus.SENT)
    except CycleConflict:
        raise Refused([f"cycle {cycle_id} was confirmed meanwhile"]) from None
    return done


def _give_back(ports: Ports, tenant: str, cycle_id: str, line: CycleLine, at: datetime) -> None:
    """A line finance could not pay: its money back in the vendor's ``available`` (a new entry,
    keyed by cycle and vendor, so posting it again adds nothing)."""
    back = payout_failed(tenant, line.currency, cycle_id, line.vendor_id, line.amount, at)
    ports.ledger.post(tenant, [back] if back else [])


def mark_cycle(ports: Ports, tenant: str, cycle_id: str, mark: str, who: str) -> Cycle:
    """Finance's answer for the whole cycle (a signed link): ``paid`` — every line still
    waiting is paid; ``failed`` — every line still waiting failed, its money back with its
    vendor. Lines answered one by one before keep their answer (``confirm``)."""
    if mark not in MARKED:
        raise Refused([f"a cycle is marked {' or '.join(MARKED)}, not {mark!r}"])
    failed: dict[tuple[str, str], str] = {}
    if MARKED[mark] is LineStatus.FAILED:
        _, lines = show(ports, tenant, cycle_id)
        failed = {
            (line.currency, line.vendor_id): "finance could not pay it"
            for line in lines
            if line.status is LineStatus.PAYABLE
        }
    return confirm(ports, tenant, cycle_id, who, failed)


def mark_line(
    ports: Ports,
    tenant: str,
    cycle_id: str,
    currency: str,
    vendor_id: str,
    mark: str,
    who: str,
    reason: str = "",
) -> Cycle:
    """Finance's answer for one vendor's line (a signed link): paid, or failed — its money
    back in the vendor's balance. Once every payable line is answered the cycle is confirmed,
    partly confirmed or failed. The same answer again changes nothing (a failed line's entry
    is posted once); another answer to an answered line is refused."""
    cycle, lines = show(ports, tenant, cycle_id)
    status = MARKED.get(mark)
    line = next((x for x in lines if (x.currency, x.vendor_id) == (currency, vendor_id)), None)
    problems = [] if who.strip() else ["an answer names who gives it"]
    if status is None:
        problems.append(f"a line is marked {' or '.join(MARKED)}, not {mark!r}")
    if line is None:
        problems.append(f"{vendor_id} ({currency}) has no line in {cycle_id}")
    elif status is not None and line.status is status:
        if status is LineStatus.FAILED:
            _give_back(ports, tenant, cycle_id, line, ports.clock.now())
        return cycle  # answered so before: nothing changes
    elif line.status is not LineStatus.PAYABLE:
        problems.append(f"{vendor_id} ({currency}) is {line.status} in {cycle_id} already")
    if cycle.status is not CycleStatus.SENT:
        problems.append(f"cycle {cycle_id} is {cycle.status}, not sent: nothing to mark")
    if problems or line is None or status is None:
        raise Refused(problems)
    now = ports.clock.now()
    why = (reason.strip() or "finance could not pay it") if status is LineStatus.FAILED else ""
    updated = line.model_copy(update={"status": status, "reason": why or line.reason})
    try:
        ports.cycles.save_line(tenant, cycle_id, updated, expected=line)
    except CycleConflict:
        raise Refused([f"the line of {vendor_id} ({currency}) was answered meanwhile"]) from None
    if status is LineStatus.FAILED:
        _give_back(ports, tenant, cycle_id, updated, now)
    lines = ports.cycles.lines(tenant, cycle_id)
    if not answered(lines):
        return cycle
    done = cycle.model_copy(
        update={"status": final_status(lines), "confirmed_at": now, "confirmed_by": who.strip()}
    )
    try:
        ports.cycles.save(done, CycleStatus.SENT)
    except CycleConflict:
        logger.info("the cycle was closed meanwhile", extra={"cycle": cycle_id})
        return ports.cycles.get(tenant, cycle_id) or done
    return done


def run_due_cycles(
    ports: Ports,
    tenants: list[TenantSettings],
    send_for: Callable[[TenantSettings], Send] | None = None,
    now: datetime | None = None,
) -> list[Cycle]:
    """The hourly tick: each marketplace tenant whose cut-off has passed since its last cycle
    (or whose last cycle was interrupted) gets its cycle run."""
    now = now or ports.clock.now()
    done = []
    interrupted: list[str] = []
    for tenant in tenants:
        if not tenant.payouts.enabled or not cycle_due(ports, tenant, now):
            continue
        logger.append_keys(tenant=tenant.id)
        try:
            done.append(run_cycle(ports, tenant, send_for(tenant) if send_for else None, now))
        except Exception:
            # One tenant's gateway down (a Connect transfer timing out) must not hold back the
            # others' cycles: its draft resumes at the next run.
            logger.exception("payout cycle interrupted: it resumes at the next run")
            interrupted.append(tenant.id)
    if interrupted:
        raise CyclesInterrupted(interrupted)
    return done
