#!/usr/bin/env python3
"""Benchmark of a long order history: searchOrders alone against the report path.

Usage, from the repository root::

    python3 tests/bench_order_history.py [--orders 10000]
        [--database bench_order_history] [--keep] [--queue-seconds 60]
        [--processing-seconds 300] [--history-after-pages N]

Two sellers of the SP-API sandbox hold the same ``--orders`` orders of the
last 29 days on four European marketplaces (DE, FR, IT, UK). Account A reads
them through searchOrders only (``amazon_order_history=False``), account B
through the connector's normal path: ``HISTORY_AFTER_PAGES`` (20)
searchOrders pages, then one ``amazon.order.history`` per marketplace
(createReport, getReport, getReportDocument, the download, the import of
its rows, searchOrders for the merchant's orders still to ship). Both start
from the same cursor, an hour before the oldest order, and run the way the
queue jobs run them: ``amazon_commit_pages`` in the context,
``test_enable`` False, so each commits page by page or step by step.

One run prints, as plain ``name: value`` lines:

* ``Amazon time``: the sandbox and the connector's rate limiter
  (``PgRateLimiter.clock``) follow one ``ManualClock`` (dates stay real)
  with ``time_scale`` 1, so every operation has Amazon's real quota
  (searchOrders 0.0056/s burst 20, createReport and getReportDocument
  0.0167/s burst 15, getReport 2/s burst 15: the sandbox's usage plans are
  printed). Nothing waits: where a job would be re-scheduled (the connector
  raises ``AmazonThrottled``, or a history returns the seconds to wait for
  Amazon's report), the bench moves the clock on by those seconds, rounded
  up to whole seconds as queue_job re-schedules (``_run_amazon_job``,
  ``_job_run``). The jobs of a path run one at a time in a queue ordered by
  due time (the ``root.amazon`` channel), so the reports of the four
  marketplaces are made by Amazon side by side, as they would be. Amazon
  time is the clock's seconds from the path's start to its end: the least
  time a path takes on Amazon's quotas and report processing
  (``--queue-seconds`` IN_QUEUE plus ``--processing-seconds`` IN_PROGRESS,
  printed).
* ``searchOrders only``: as the job runs it, a sync throttled after its
  burst is re-scheduled, and the re-run starts from the cursor again (the
  cursor moves only once the whole window is read, and no pagination token
  is kept), so it reads page 1 with the one token the wait earned and is
  throttled on page 2: it never finishes a window of more than 20 pages.
  The bench therefore times searchOrders alone with a sync that waits out
  every throttle inside its calls (``max_wait`` unlimited, the client's
  sleep moving the clock): one job reading one page a token, the least
  Amazon time searchOrders' quota allows, which a job that kept its page
  would take too. The job as it is runs afterwards (``searchOrders only as
  the job re-runs it``): from the same cursor with a full bucket, re-run
  after each throttle until it finishes or ``--idle-reruns`` re-runs in a
  row stored no new order and left the cursor where it was.
* ``report path``: account B's sync job (20 pages, then the histories),
  then the histories' jobs, each run until done. Its searchOrders pages
  (the sync's and those of the orders still to ship) and reports created
  are counted, and each phase's wall time is printed.
* wall time of each path (``time.perf_counter``; the manual clock means
  nobody waits for Amazon), its CPU, SQL queries and peak resident memory
  (``VmHWM``, reset before the path through ``/proc/self/clear_refs``, as
  bench_order_sync's Meter).
* SP-API calls of each path from the sandbox's call log, Login with Amazon
  token calls included, per operation and HTTP status. The presigned
  download of a report document is no SP-API operation (no quota, not in
  the log): the downloads are counted apart.
* ``layer peak memory``: tracemalloc's peak while the connector reads the
  largest report's document from a file and stages its rows
  (``OrderReportReader`` and ``amazon.order.history._stage``, the download
  step without the HTTP part), for the whole document and for its first
  quarter, on a history record rolled back afterwards. The target is a
  flat figure: the staging holds one batch of 500 orders whatever the
  report's size. tracemalloc runs for that measure only (it slows the ORM
  down several times); the import of the staged orders is covered by the
  path's VmHWM.
* ``comparison``: after both paths, the two accounts' orders order by
  order: the same order references, untaxed amount, tax and total, lines
  (SKU, charge, quantity, unit price, total, tax rates), state, Amazon
  status, channel, picking states, stock moves (product, quantity, state)
  and invoiced total. The delivery country is compared only where both
  have one (searchOrders hides the address of an order shipped long ago;
  the report gives its ship country). Up to 10 mismatches are listed.
* ``ratio report import/floor``: orders created during the report path's
  import phase (``_step_import``, the staged rows booked 200 at a time)
  divided by that phase's wall time, against bench_order_sync's floor
  (``Floor``, run by its ``run_floor`` in a child process before the paths:
  the importable orders created by one batched ``sale.order.create``,
  confirmed or cancelled, rolled back). The import phase also re-reads the
  orders the 20 searchOrders pages stored (they are updates, one by one):
  its rate over every staged order it handled is printed too, and so is
  the searchOrders-only path's end-to-end rate against the same floor.

Set-up (not timed, committed): the script drops ``--database`` and installs
``amazon_refund_connector`` without demo data; bench_order_sync's
``set_up`` makes account A, the currency rates and a storable product per
SKU, and account B is made alike; orders are seeded with ``fba_share``
0.55. Each process warms its code path up on a few orders, rolled back.
With fewer orders than 21 pages (``--orders 1500`` for a trial) the burst
would read every order and no history would start: ``HISTORY_AFTER_PAGES``
is then lowered to a quarter of the pages (``--history-after-pages`` sets
it; printed). The database is dropped at the end unless ``--keep``.
"""

import argparse
import math
import os
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_order_sync import (
    MARKETPLACES,
    MB,
    REPO,
    TESTS,
    WARMUP_ORDERS,
    Meter,
    begin_run,
    configure_odoo,
    end_run,
    importable,
    open_env,
    rate,
    run_floor,
    set_up,
)

SEED = 2031
CODES = ("DE", "FR", "IT", "UK")
PAGE_SIZE = 100
SHOWN_MISMATCHES = 10
COMPARE_BATCH = 500
OPERATIONS = (
    "searchOrders",
    "createReport",
    "getReport",
    "getReportDocument",
    "getOrder",
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--database", default="bench_order_history")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--fba-share", type=float, default=0.55)
    parser.add_argument("--queue-seconds", type=float, default=60.0)
    parser.add_argument("--processing-seconds", type=float, default=300.0)
    parser.add_argument(
        "--history-after-pages",
        type=int,
        default=None,
        help="searchOrders pages before the report takes over "
        "(default: the connector's, lowered when the orders fit in it)",
    )
    parser.add_argument(
        "--idle-reruns",
        type=int,
        default=5,
        help="re-runs without progress after which the searchOrders-only job "
        "is said not to finish",
    )
    return parser.parse_args()


def hms(seconds):
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def job_delay(seconds):
    """The delay queue_job re-schedules a job after, as the connector asks."""
    return max(int(seconds + 0.999), 1)


# -- sandbox -----------------------------------------------------------


def start_sandbox(args):
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    from sandbox import SandboxServer
    from sandbox.timeutil import ManualClock

    clock = ManualClock(real_dates=True)
    sandbox = SandboxServer(time_scale=1, settle_seconds=0, clock=clock)
    sandbox.start()
    marketplaces = [MARKETPLACES[code] for code in CODES]
    seller_a = sandbox.add_new_seller(marketplaces)
    seller_b = sandbox.add_new_seller(marketplaces)
    start = datetime.now(timezone.utc) - timedelta(days=29)
    orders = sandbox.seed_orders(
        args.seed,
        args.orders,
        seller_id=seller_a["seller_id"],
        start=start,
        marketplaces=marketplaces,
        fba_share=args.fba_share,
    )
    sandbox.add_orders(orders, seller_id=seller_b["seller_id"])
    for seller in (seller_a, seller_b):
        sandbox.configure_order_reports(
            seller_id=seller["seller_id"],
            queue_seconds=args.queue_seconds,
            processing_seconds=args.processing_seconds,
        )
    return sandbox, clock, seller_a, seller_b, orders


def call_figures(sandbox):
    calls = sandbox.calls
    operations = Counter(operation for operation, _status, _query in calls)
    statuses = Counter((operation, status) for operation, status, _query in calls)
    text = ", ".join(
        f"{operation} {count}"
        + (
            " ("
            + ", ".join(
                f"HTTP {status} {n}"
                for (op, status), n in sorted(statuses.items(), key=str)
                if op == operation
            )
            + ")"
        )
        for operation, count in sorted(operations.items(), key=str)
    )
    return len(calls), operations, text


# -- Odoo set-up -------------------------------------------------------


def make_accounts(env, sandbox, seller_a, seller_b, orders, cursor):
    account_a, sku_count, _count = set_up(env, sandbox, seller_a, orders, True)
    marketplaces = env["amazon.marketplace"].search(
        [("marketplace_ref", "in", [MARKETPLACES[code] for code in CODES])]
    )
    account_a.write(
        {
            "name": "Amazon searchOrders only",
            "marketplace_ids": [(6, 0, marketplaces.ids)],
            "last_order_sync": cursor,
        }
    )
    account_b = env["amazon.account"].create(
        {
            "name": "Amazon report path",
            "region": account_a.region,
            "seller_ref": seller_b["seller_id"],
            "lwa_client_id": seller_b["client_id"],
            "lwa_client_secret": seller_b["client_secret"],
            "refresh_token": seller_b["refresh_token"],
            "endpoint_override": sandbox.url,
            "lwa_endpoint_override": f"{sandbox.url}/auth/o2/token",
            "marketplace_ids": [(6, 0, marketplaces.ids)],
            "invoice_orders": account_a.invoice_orders,
            "last_order_sync": cursor,
        }
    )
    return account_a, account_b, sku_count, marketplaces


# -- jobs on the manual clock ------------------------------------------


class JobQueue:
    """One channel: the due job runs, and is put back after the seconds it
    asks for (a throttle, or the wait for Amazon's report); when no job is
    due, the clock moves on to the next one."""

    def __init__(self, env, clock):
        self.env = env
        self.clock = clock
        self.jobs = []
        self.sequence = 0
        self.runs = Counter()
        self.throttles = Counter()
        self.waits = Counter()

    def add(self, name, work, due=None):
        self.sequence += 1
        self.jobs.append(
            (self.clock.time() if due is None else due, self.sequence, name, work)
        )

    def run(self, stop=None):
        while self.jobs:
            self.jobs.sort(key=lambda job: (job[0], job[1]))
            due, _sequence, name, work = self.jobs.pop(0)
            now = self.clock.time()
            if due > now:
                self.clock.advance(due - now)
            self.runs[name] += 1
            try:
                delay = work()
                if delay:
                    self.waits[name] += 1
                    delay = int(delay)
            except self.throttled_error as error:
                self.env.cr.rollback()
                self.throttles[name] += 1
                delay = job_delay(error.retry_after)
            # A job's transaction ends with it.
            self.env.cr.commit()
            if delay:
                if stop and stop(name):
                    return False
                self.add(name, work, due=self.clock.time() + delay)
        return True

    @property
    def throttled_error(self):
        from odoo.addons.amazon_refund_connector.sp_api import AmazonThrottled

        return AmazonThrottled


def with_client(account, work):
    client = account._get_client()
    try:
        return work(client)
    finally:
        client.close()


def sync_orders_waiting(env, account, clock):
    """One sync that waits out every throttle inside its calls (the clock
    moves instead): searchOrders' quota, one page a token."""
    job = account.with_context(amazon_commit_pages=True, amazon_order_history=False)

    def work(client):
        client.max_wait = math.inf
        # A millisecond more: a float short of the token would be a throttle.
        client._sleep = lambda seconds: clock.advance(seconds + 0.001)
        return job._sync_orders(client)

    result = with_client(account, work)
    env.cr.commit()
    return result


class StepTimer:
    """Wall time, runs and progress of each phase of the histories."""

    STEPS = ("request", "wait", "download", "import", "open")

    def __init__(self, env, sandbox):
        self.env = env
        self.sandbox = sandbox
        self.model_class = type(env["amazon.order.history"])
        self.originals = {}
        self.seconds = Counter()
        self.runs = Counter()
        self.created = 0
        self.handled = 0
        self.created_ids = []
        self.open_pages = 0
        for step in self.STEPS:
            name = f"_step_{step}"
            original = getattr(self.model_class, name)
            self.originals[name] = original
            setattr(self.model_class, name, self._timed(step, original))

    def _sale_max_id(self):
        self.env.cr.execute("SELECT coalesce(max(id), 0) FROM sale_order")
        return self.env.cr.fetchone()[0]

    def _handled(self, history):
        self.env.cr.execute(
            "SELECT count(*) FROM amazon_order_history_order "
            "WHERE history_id = %s AND state != 'pending'",
            (history.id,),
        )
        return self.env.cr.fetchone()[0]

    def _timed(self, step, original):
        timer = self

        def timed(history, client):
            before_id = before_handled = searches = 0
            if step == "import":
                before_id = timer._sale_max_id()
                before_handled = timer._handled(history)
            if step == "open":
                searches = timer.sandbox.call_count("searchOrders")
            start = time.perf_counter()
            try:
                return original(history, client)
            finally:
                timer.seconds[step] += time.perf_counter() - start
                timer.runs[step] += 1
                if step == "import":
                    timer.env.cr.execute(
                        "SELECT id FROM sale_order WHERE id > %s "
                        "AND amazon_account_id = %s",
                        (before_id, history.account_id.id),
                    )
                    ids = [row[0] for row in timer.env.cr.fetchall()]
                    timer.created_ids += ids
                    timer.created += len(ids)
                    timer.handled += timer._handled(history) - before_handled
                if step == "open":
                    timer.open_pages += (
                        timer.sandbox.call_count("searchOrders") - searches
                    )

        return timed

    def restore(self):
        for name, original in self.originals.items():
            setattr(self.model_class, name, original)


def report_path(env, sandbox, clock, account):
    """Account B's sync job, then the histories' jobs, to their end."""
    timer = StepTimer(env, sandbox)
    queue = JobQueue(env, clock)
    sync_figures = {}
    job = account.with_context(amazon_commit_pages=True)

    def sync_job():
        searches = sandbox.call_count("searchOrders")
        start = time.perf_counter()
        result = with_client(account, job._sync_orders)
        sync_figures.update(
            seconds=time.perf_counter() - start,
            pages=sandbox.call_count("searchOrders") - searches,
            result=result,
        )
        env.cr.commit()
        for history in account.order_history_ids.filtered(
            lambda h: h.state not in ("done", "failed")
        ):
            queue.add(f"history {history.marketplace_id.name}", history_job(history))
        return None

    def history_job(history):
        run = history.with_context(amazon_commit_pages=True)
        return lambda: with_client(account, run._run)

    queue.add("order sync", sync_job)
    try:
        queue.run()
    finally:
        timer.restore()
    return queue, timer, sync_figures


def job_reruns(env, sandbox, clock, account, cursor, idle_limit):
    """The searchOrders-only sync as the job runs it, re-run after each
    throttle until it finishes or makes no progress ``idle_limit`` times."""
    job = account.with_context(amazon_commit_pages=True, amazon_order_history=False)
    queue = JobQueue(env, clock)
    pages, created = [], []
    state = {"idle": 0, "finished": False, "best": 0}

    def count():
        return env["sale.order"].search_count([("amazon_account_id", "=", account.id)])

    def sync_job():
        searches = sandbox.call_count("searchOrders")
        before = count()
        cursor_before = account.last_order_sync
        try:
            with_client(account, job._sync_orders)
            state["finished"] = True
        finally:
            pages.append(sandbox.call_count("searchOrders") - searches)
            env.cr.commit()
            account.invalidate_recordset()
            created.append(count() - before)
            # Progress: new orders, a moved cursor, or a page further than
            # any run before (each run starts from the cursor again).
            progress = (
                created[-1]
                or account.last_order_sync != cursor_before
                or pages[-1] > state["best"]
            )
            state["best"] = max(state["best"], pages[-1])
            state["idle"] = 0 if progress else state["idle"] + 1
        return None

    queue.add("order sync", sync_job)
    queue.run(stop=lambda _name: state["idle"] >= idle_limit)
    return state["finished"], pages, created, queue


# -- comparison ----------------------------------------------------------


def compare(env, account_a, account_b):
    # The Odoo tests' definition of "the same order", so both check alike.
    from order_compare import order_shape

    sale_order = env["sale.order"]

    def refs(account):
        env.cr.execute(
            "SELECT amazon_order_ref FROM sale_order WHERE amazon_account_id = %s",
            (account.id,),
        )
        return {ref for (ref,) in env.cr.fetchall()}

    refs_a, refs_b = refs(account_a), refs(account_b)
    mismatches = [
        f"{ref}: only through searchOrders" for ref in sorted(refs_a - refs_b)
    ]
    mismatches += [f"{ref}: only through the report" for ref in sorted(refs_b - refs_a)]
    common = sorted(refs_a & refs_b)
    countries = Counter()
    differing = Counter()
    for first in range(0, len(common), COMPARE_BATCH):
        batch = common[first : first + COMPARE_BATCH]
        shapes = []
        for account in (account_a, account_b):
            sales = sale_order.search(
                [
                    ("amazon_account_id", "=", account.id),
                    ("amazon_order_ref", "in", batch),
                ]
            )
            shapes.append({s.amazon_order_ref: order_shape(s) for s in sales})
        for ref in batch:
            mine, theirs = shapes[0][ref], shapes[1][ref]
            if not mine["country"] or not theirs["country"]:
                countries["one side without country"] += 1
                mine.pop("country")
                theirs.pop("country")
            keys = [key for key in mine if mine[key] != theirs[key]]
            if keys:
                differing.update(keys)
                mismatches.append(
                    f"{ref}: "
                    + "; ".join(
                        f"{key} searchOrders {mine[key]!r} report {theirs[key]!r}"
                        for key in keys
                    )
                )
        env.invalidate_all()
    return len(common), mismatches, differing, countries, len(refs_a), len(refs_b)


# -- layer memory ----------------------------------------------------------


def staging_peaks(env, account, history):
    """tracemalloc peak of reading and staging the whole document of
    ``history``'s report and its first quarter (rolled back by the caller)."""
    from odoo.addons.amazon_refund_connector.sp_api.order_reports import (
        OrderReportReader,
        legacy_charset,
    )
    from odoo.addons.amazon_refund_connector.sp_api.reports import (
        download_document,
        get_report_document,
        text_lines,
    )

    def fetch(client):
        document = get_report_document(client, history.document_ref)
        with tempfile.TemporaryFile() as spool:
            charset = download_document(document, spool)
            spool.seek(0)
            return charset, spool.read()

    charset, data = with_client(account, fetch)
    lines = data.splitlines(keepends=True)
    quarter = b"".join(lines[: 1 + (len(lines) - 1) // 4])
    marketplace_ref = history.marketplace_id.marketplace_ref

    def peak(raw):
        probe = env["amazon.order.history"].create(
            {
                "account_id": account.id,
                "marketplace_id": history.marketplace_id.id,
                "report_type": history.report_type,
                "date_from": history.date_from,
                "date_to": history.date_to,
                "window_start": history.window_start,
                "window_end": history.window_end,
                "state": "download",
            }
        )
        env.flush_all()
        with tempfile.TemporaryFile() as spool:
            spool.write(raw)
            spool.seek(0)
            tracemalloc.start()
            try:
                tracemalloc.reset_peak()
                reader = OrderReportReader(
                    text_lines(spool, charset, legacy_charset(marketplace_ref))
                )
                probe._stage(reader.rows())
                traced = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        probe._count()
        return traced, probe.expected_count

    full, full_orders = peak(data)
    part, part_orders = peak(quarter)
    return (full, full_orders), (part, part_orders), len(lines) - 1, len(data)


# -- main --------------------------------------------------------------


def plan_text(sandbox):
    parts = []
    for operation in OPERATIONS:
        plan = sandbox.limiter.plan(operation)
        if plan:
            parts.append(f"{operation} {plan[0]:g}/s burst {plan[1]}")
    return ", ".join(parts)


def search_pages(orders):
    from odoo.addons.amazon_refund_connector.sp_api.orders import (
        FBM_IMPORTED_STATUSES,
    )

    matching = sum(
        1
        for o in orders
        if o["fulfillment"]["fulfillmentStatus"] in FBM_IMPORTED_STATUSES
    )
    return math.ceil(matching / PAGE_SIZE), matching


def main():
    args = parse_args()
    os.chdir(REPO)
    db = args.database
    configure_odoo(db)
    digest, work_dir = begin_run(db, "bench_order_history_")

    from odoo.addons.amazon_refund_connector.models import amazon_account_history
    from odoo.addons.amazon_refund_connector.models.amazon_rate_limit import (
        PgRateLimiter,
    )

    sandbox, clock, seller_a, seller_b, orders = start_sandbox(args)
    PgRateLimiter.clock = clock
    env = open_env(db)
    cr = env.cr
    try:
        channels = Counter(o["fulfillment"]["fulfilledBy"] for o in orders)
        statuses = Counter(o["fulfillment"]["fulfillmentStatus"] for o in orders)
        pages, matching = search_pages(orders)
        print(
            f"sandbox: {len(orders)} orders seeded (seed {args.seed}, last 29 days) "
            f"on {', '.join(CODES)} for two sellers (the same orders); "
            f"{channels['AMAZON']} FBA, {channels['MERCHANT']} FBM; statuses "
            + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        )
        print(
            f"sandbox clock: one ManualClock (real dates) for the sandbox and "
            f"PgRateLimiter; time_scale 1, settle_seconds 0; usage plans "
            f"{plan_text(sandbox)}"
        )
        print(
            f"report processing: queue_seconds {args.queue_seconds:g}, "
            f"processing_seconds {args.processing_seconds:g}"
        )
        after = args.history_after_pages
        if after is None:
            after = amazon_account_history.HISTORY_AFTER_PAGES
            if pages <= after:
                after = max(1, pages // 4)
        amazon_account_history.HISTORY_AFTER_PAGES = after
        print(
            f"searchOrders: {matching} orders in the sync's statuses, {pages} pages "
            f"of {PAGE_SIZE}; HISTORY_AFTER_PAGES {after}"
            + (" (the connector's)" if after == 20 else " (lowered for this run)")
        )
        first = min(o["lastUpdatedTime"] for o in orders)
        cursor = datetime.fromisoformat(first.replace("Z", "+00:00")).replace(
            tzinfo=None, microsecond=0
        ) - timedelta(hours=1)
        account_a, account_b, sku_count, marketplaces = make_accounts(
            env, sandbox, seller_a, seller_b, orders, cursor
        )
        cr.commit()
        print(
            f"set-up: accounts A (seller {seller_a['seller_id']}) and B (seller "
            f"{seller_b['seller_id']}) on {len(marketplaces)} marketplaces, cursor "
            f"{cursor}; {sku_count} products; invoice_orders "
            f"{account_a.invoice_orders} (committed)"
        )

        # -- the floor, in a child process, rolled back -------------------
        to_import = [o for o in orders if importable(o)]
        floor, floor_meter = run_floor(db, to_import, work_dir)
        floor_rate = rate(floor["orders"], floor_meter.seconds)
        print(
            f"floor: {floor['orders']} orders, {floor['lines']} lines in "
            f"{floor_meter.seconds:.2f} s (bench_order_sync's Floor, child "
            f"process, rolled back); orders/s floor: {floor_rate:.1f}"
        )

        # Warm-up on a few orders without the sandbox, rolled back.
        env["sale.order"]._amazon_import_orders(account_a, orders[:WARMUP_ORDERS])
        env.flush_all()
        cr.rollback()

        # -- searchOrders only --------------------------------------------
        sandbox.clear_calls()
        clock_start = clock.time()
        meter_a = Meter()
        result_a = sync_orders_waiting(env, account_a, clock)
        meter_a.stop()
        amazon_a = clock.time() - clock_start
        calls_a, operations_a, text_a = call_figures(sandbox)
        created_a = len(result_a.created)
        print(
            f"searchOrders only: {created_a} orders created, "
            f"{len(result_a.updated)} updated, {len(result_a.skipped)} skipped, "
            f"{len(result_a.failures)} failed; {operations_a['searchOrders']} "
            "searchOrders calls (one job waiting out each throttle in its calls)"
        )
        print(f"searchOrders only Amazon time: {amazon_a:.0f} s ({hms(amazon_a)})")
        print(
            f"searchOrders only wall time: {meter_a.seconds:.1f} s (CPU "
            f"{meter_a.cpu:.1f}; {meter_a.load_text()}; no real waiting)"
        )
        print(f"searchOrders only SP-API calls: {calls_a} ({text_a})")
        print(f"searchOrders only SQL queries: {meter_a.sql}")
        print(f"searchOrders only peak memory: {meter_a.memory_text()}")
        rate_a = rate(created_a, meter_a.seconds)
        print(
            f"searchOrders only orders/s end to end: {rate_a:.1f}; ratio "
            f"searchOrders path/floor: {rate_a / floor_rate:.2f}"
        )

        # -- the report path ----------------------------------------------
        sandbox.clear_calls()
        clock_start = clock.time()
        meter_b = Meter()
        queue, steps, sync = report_path(env, sandbox, clock, account_b)
        meter_b.stop()
        amazon_b = clock.time() - clock_start
        calls_b, operations_b, text_b = call_figures(sandbox)
        histories = account_b.order_history_ids
        reports = sandbox.order_reports(seller_b["seller_id"])
        sales_b = env["sale.order"].search_count(
            [("amazon_account_id", "=", account_b.id)]
        )
        result_b = sync["result"]
        print(
            f"report path: {sales_b} orders; the sync job read {sync['pages']} "
            f"searchOrders pages in {sync['seconds']:.1f} s ({len(result_b.created)} "
            f"created, {len(result_b.updated)} updated) and started "
            f"{len(histories)} histories until {result_b.history_until}"
        )
        print(
            f"report path searchOrders pages read: {operations_b['searchOrders']} "
            f"({sync['pages']} by the sync, {steps.open_pages} for the orders "
            f"still to ship); reports created: {len(reports)} "
            f"({', '.join(sorted(Counter(r['processingStatus'] for r in reports)))});"
            f" documents downloaded: {steps.runs['download']}"
        )
        for history in histories.sorted(lambda h: h.marketplace_id.name):
            print(
                f"report path history {history.marketplace_id.name}: {history.state}, "
                f"{history.expected_count} orders in the report, "
                f"{history.stored_count} stored, {history.failed_count} failed, "
                f"{history.polls} polls; {history.message}"
            )
        print(
            "report path jobs: runs "
            + ", ".join(f"{n} {c}" for n, c in sorted(queue.runs.items()))
            + "; re-scheduled for the report "
            + ", ".join(f"{n} {c}" for n, c in sorted(queue.waits.items()))
            + "; throttled "
            + (", ".join(f"{n} {c}" for n, c in sorted(queue.throttles.items())) or "0")
        )
        print(f"report path Amazon time: {amazon_b:.0f} s ({hms(amazon_b)})")
        print(
            f"report path wall time: {meter_b.seconds:.1f} s (CPU {meter_b.cpu:.1f}; "
            f"{meter_b.load_text()}; no real waiting); sync job "
            f"{sync['seconds']:.1f} s, history phases "
            + ", ".join(
                f"{step} {steps.seconds[step]:.1f} s ({steps.runs[step]} runs)"
                for step in StepTimer.STEPS
            )
        )
        print(f"report path SP-API calls: {calls_b} ({text_b})")
        print(f"report path SQL queries: {meter_b.sql}")
        print(f"report path peak memory: {meter_b.memory_text()}")
        import_seconds = steps.seconds["import"]
        import_rate = rate(steps.created, import_seconds)
        print(
            f"report import: {steps.created} orders created and {steps.handled} "
            f"staged orders handled in {import_seconds:.1f} s; orders/s created "
            f"{import_rate:.1f}, staged orders/s "
            f"{rate(steps.handled, import_seconds):.1f}"
        )
        print(f"orders/s floor: {floor_rate:.1f}")
        print(f"ratio report import/floor: {import_rate / floor_rate:.2f}")
        print(
            f"Amazon time searchOrders only / report path: {amazon_a:.0f} s / "
            f"{amazon_b:.0f} s = {amazon_a / max(amazon_b, 1):.1f}"
        )

        # -- comparison -----------------------------------------------------
        compared, mismatches, differing, countries, count_a, count_b = compare(
            env, account_a, account_b
        )
        print(
            f"orders compared: {compared} (searchOrders {count_a}, report {count_b}), "
            f"mismatches: {len(mismatches)}"
            + (
                f"; country left out for {countries['one side without country']}"
                if countries
                else ""
            )
        )
        if differing:
            print(
                "mismatching fields: "
                + ", ".join(f"{k} {v}" for k, v in differing.most_common())
            )
        for line in mismatches[:SHOWN_MISMATCHES]:
            print(f"  mismatch: {line}")

        # -- searchOrders only as the job re-runs it -------------------------
        synced_cursor = account_a.last_order_sync
        account_a.last_order_sync = cursor
        cr.commit()
        # A full bucket, as at the first path's start.
        clock.advance(20 / 0.0056 + 1)
        sandbox.clear_calls()
        clock_start = clock.time()
        started = time.perf_counter()
        finished, rerun_pages, rerun_created, rerun_queue = job_reruns(
            env, sandbox, clock, account_a, cursor, args.idle_reruns
        )
        account_a.invalidate_recordset()
        print(
            f"searchOrders only as the job re-runs it: "
            f"{'finished' if finished else 'does NOT finish'} after "
            f"{len(rerun_pages)} runs ({rerun_queue.throttles['order sync']} "
            f"throttled); searchOrders pages per run "
            f"{' '.join(map(str, rerun_pages))}; new orders per run "
            f"{' '.join(map(str, rerun_created))}; cursor "
            f"{account_a.last_order_sync}; Amazon time "
            f"{clock.time() - clock_start:.0f} s, wall "
            f"{time.perf_counter() - started:.1f} s (from the same cursor, the "
            "orders stored already)"
        )
        account_a.last_order_sync = synced_cursor
        cr.commit()

        # -- layer memory ---------------------------------------------------
        largest = max(histories, key=lambda h: h.expected_count, default=None)
        if largest and largest.document_ref:
            (full, full_orders), (part, part_orders), rows, size = staging_peaks(
                env, account_b, largest
            )
            print(
                f"layer peak memory: {full / MB / 1024:.2f} MB reading and staging "
                f"the whole document of {largest.marketplace_id.name} ({rows} rows, "
                f"{size / MB / 1024:.1f} MB, {full_orders} orders), "
                f"{part / MB / 1024:.2f} MB for its first quarter ({part_orders} "
                f"orders); ratio {full / max(part, 1):.2f} (target: flat)"
            )
        cr.rollback()
    finally:
        cr.close()
        sandbox.stop()
    end_run(db, args.keep, digest)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
