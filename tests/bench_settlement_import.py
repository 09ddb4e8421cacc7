#!/usr/bin/env python3
"""Benchmark of the settlement import against a plain statement-line floor.

Usage, from the repository root::

    python3 tests/bench_settlement_import.py [--rows 20000]
        [--database bench_settlement] [--keep]

One run prints, as plain ``name: value`` lines:

* ``rows/s import``: rows of one settlement report imported and reconciled
  by ``account._import_settlements(client)``, divided by its wall clock
  time. Timed: getReports, getReportDocument, the download (streamed into a
  temporary file), both passes over the document (totals, then the lines),
  the journal made on first need, the statement, its lines written with
  their journal items, the matching with the orders' invoices and the
  reconciliation (``_reconcile_plan``), and a flush.
* ``rows/s floor``: the same number of rows over as many statement lines
  as the import wrote, created by plain batched
  ``account.bank.statement.line.create([...])`` (500 a call, the amounts
  and dates of the import's lines, the journal's suspense account as
  counterpart, no matching) in one statement of a bank journal of the same
  currency, then a flush; with the context the import creates its lines
  in (``tracking_disable``: no chatter on their journal entries), so that
  the floor is what the ORM itself costs. Not timed: building the vals.
* ``ratio import/floor`` (target >= 0.5), the SQL queries of each part and
  the peak resident memory of each part (``VmHWM``, reset before each part
  through ``/proc/self/clear_refs``), and the import's resident memory as
  its first, a quarter's, the middle and its last batch of statement lines
  start: flat when memory does not grow with the report.
* ``layer peak memory``: tracemalloc's peak while the connector's layer
  reads and groups the downloaded document, for the whole document and for
  its first quarter: a streamed document takes the same memory whatever its
  size.

Set-up (not timed, committed): the script drops ``--database`` if it exists
and installs the connector without demo data; it starts the SP-API sandbox
in this process (``time_scale`` 1000) with a seller on Amazon.de, seeds
FBA orders in the settlement period two periods back until that
settlement's report holds at least ``--rows`` rows, creates a product per
SKU and a EUR rate, and synchronises the orders (the FBA orders are
invoiced at import, so each order line of the report has its invoice).
Import and floor each run in a transaction that is rolled back, import
first, so the floor runs on the same database state.
"""

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_order_sync import (
    ADDON,
    MB,
    REPO,
    TESTS,
    Meter,
    _status_kb,
    code_state,
    configure_odoo,
    drop_database,
    install_database,
    open_env,
    rate,
)

DE = "A1PA6795UKMFR9"
SEED = 2027
BATCH = 300
FLOOR_BATCH = 500


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--database", default="bench_settlement")
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args()


def start_sandbox():
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import uuid

    from sandbox import SandboxServer

    sandbox = SandboxServer(time_scale=1000, settle_seconds=0)
    sandbox.start()
    sandbox.configure_finances(posting_lag=0)
    token = uuid.uuid4().hex
    seller = {
        "seller_id": f"A{token[:12].upper()}",
        "client_id": f"amzn1.application-oa2-client.{token[:16]}",
        "client_secret": f"secret-{token}",
        "refresh_token": f"Atzr|refresh-{token}",
        "marketplaces": [DE],
    }
    sandbox.add_seller(**seller)
    return sandbox, seller


def seed(sandbox, seller, rows):
    from sandbox.ops import reports

    period = reports.period_of(sandbox.now()) - 2
    start, end = reports.period_bounds(period)
    orders, summary, batch = [], None, 0
    while summary is None or summary["rows"] < rows:
        orders += sandbox.seed_orders(
            SEED + batch,
            BATCH,
            seller_id=seller["seller_id"],
            start=start + timedelta(hours=1),
            end=end - timedelta(days=1),
            marketplaces=[DE],
            fba_share=1.0,
        )
        batch += 1
        summary = next(
            s
            for s in sandbox.settlements(seller["seller_id"])
            if s["marketplaceId"] == DE
            and s["start"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
    return orders, summary, start


def set_up(env, sandbox, seller, orders, start):
    eur = env.ref("base.EUR")
    eur.active = True
    env["res.currency.rate"].create(
        {
            "currency_id": eur.id,
            "company_id": env.company.id,
            "name": (start - timedelta(days=30)).date(),
            "rate": 0.92,
        }
    )
    skus = sorted({i["product"]["sellerSku"] for o in orders for i in o["orderItems"]})
    env["product.product"].create(
        [{"name": sku, "default_code": sku, "is_storable": True} for sku in skus]
    )
    account = env["amazon.account"].create(
        {
            "name": "Amazon bench",
            "region": "EU",
            "seller_ref": seller["seller_id"],
            "lwa_client_id": seller["client_id"],
            "lwa_client_secret": seller["client_secret"],
            "refresh_token": seller["refresh_token"],
            "endpoint_override": sandbox.url,
            "lwa_endpoint_override": f"{sandbox.url}/auth/o2/token",
            "marketplace_ids": [
                (
                    6,
                    0,
                    env["amazon.marketplace"]
                    .search([("marketplace_ref", "=", DE)])
                    .ids,
                )
            ],
            "last_order_sync": (start - timedelta(days=1)).replace(tzinfo=None),
        }
    )
    client = account._get_client()
    try:
        result = account.with_context(
            amazon_commit_pages=True, amazon_order_history=False
        )._sync_orders(client)
    finally:
        client.close()
    return account, result


def import_part(env, account):
    """The timed import; also samples the resident memory as each batch of
    statement lines starts (after the previous one was flushed and the
    cache cleared)."""
    from odoo.addons.amazon_refund_connector.models import (
        settlement_statement_builder as builder_module,
    )

    builder = builder_module.SettlementStatementBuilder
    add_batch = builder._add_batch
    samples = []

    def sampled(self, batch):
        samples.append(_status_kb("VmRSS") or 0)
        return add_batch(self, batch)

    builder._add_batch = sampled
    meter = Meter()
    client = account._get_client()
    try:
        result = account._import_settlements(client)
    finally:
        client.close()
        builder._add_batch = add_batch
    env.flush_all()
    meter.stop()
    meter.batch_rss = samples
    meter.batch_size = builder_module.BATCH_SIZE
    settlement = env["amazon.settlement"].search(
        [("account_id", "=", account.id), ("state", "!=", "failed")]
    )
    return meter, result, settlement


def floor_part(env, lines):
    """Plain batched statement lines: the import's amounts and dates."""
    journal = env["account.journal"].create(
        {
            "name": "Floor",
            "code": "FLR",
            "type": "bank",
            "currency_id": env.ref("base.EUR").id,
        }
    )
    statement = env["account.bank.statement"].create(
        {"name": "Floor", "journal_id": journal.id}
    )
    vals = [
        {
            "statement_id": statement.id,
            "journal_id": journal.id,
            "date": date,
            "payment_ref": f"Floor line {index}",
            "amount": amount,
        }
        for index, (date, amount) in enumerate(lines)
    ]
    meter = Meter()
    model = env["account.bank.statement.line"].with_context(tracking_disable=True)
    for first in range(0, len(vals), FLOOR_BATCH):
        model.create(vals[first : first + FLOOR_BATCH])
    env.flush_all()
    meter.stop()
    return meter


def layer_peaks(account, report_layer):
    """tracemalloc peak of reading and grouping the whole document and its
    first quarter, straight from a file."""
    client = account._get_client()
    try:
        listed = list(
            report_layer.iter_reports(client, time_ago(89), marketplace_ids=[DE])
        )
        report = next(r for r in listed if r.done)
        document = report_layer.get_report_document(client, report.document_id)
        with tempfile.TemporaryFile() as spool:
            charset = report_layer.download_document(document, spool)
            spool.seek(0)
            data = spool.read()
    finally:
        client.close()
    lines = data.splitlines(keepends=True)
    quarter = b"".join(lines[: 2 + (len(lines) - 2) // 4])

    def peak(raw):
        tracemalloc.start()
        try:
            with tempfile.TemporaryFile() as spool:
                spool.write(raw)
                spool.seek(0)
                tracemalloc.reset_peak()
                reader = report_layer.SettlementReader(
                    report_layer.text_lines(spool, charset)
                )
                count = sum(1 for _ in report_layer.entries(reader.rows()))
                return tracemalloc.get_traced_memory()[1], count
        finally:
            tracemalloc.stop()

    return peak(data), peak(quarter), len(lines) - 2, len(data)


def time_ago(days):
    from odoo import fields

    return fields.Datetime.now() - timedelta(days=days)


def main():
    args = parse_args()
    os.chdir(REPO)
    db = args.database
    configure_odoo(db)
    head, dirty, digest = code_state()
    print(
        f"connector code: HEAD {head}, {dirty} uncommitted files, digest {digest}; "
        f"{os.cpu_count()} CPUs"
    )
    work_dir = Path(tempfile.mkdtemp(prefix="bench_settlement_"))
    drop_database(db)
    seconds = install_database(db, work_dir / "install.log")
    print(f"database: {db} (fresh, {ADDON} installed in {seconds:.0f} s)")
    sandbox, seller = start_sandbox()
    orders, summary, start = seed(sandbox, seller, args.rows)
    print(
        f"sandbox: {len(orders)} FBA orders on Amazon.de; settlement "
        f"{summary['settlementId']} of {summary['rows']} rows, total "
        f"{summary['total']} EUR, {len(summary['orderIds'])} orders"
    )
    env = open_env(db)
    cr = env.cr
    try:
        started = time.perf_counter()
        account, synced = set_up(env, sandbox, seller, orders, start)
        cr.commit()
        print(
            f"set-up: {len(synced.created)} orders synchronised and invoiced "
            f"({len(synced.failures)} failed) in {time.perf_counter() - started:.0f} s "
            "(committed, not timed)"
        )

        meter, result, settlement = import_part(env, account)
        rows = settlement.row_count
        lines = settlement.statement_line_ids.filtered("statement_id")
        line_data = [(line.date, line.amount) for line in lines]
        import_rate = rate(rows, meter.seconds)
        print(
            f"import: settlement {settlement.settlement_ref} ({settlement.state}), "
            f"{rows} rows -> {len(lines)} statement lines, "
            f"{settlement.matched_count} reconciled, {settlement.unmatched_count} "
            f"to review; {len(result.created)} settlement imported"
        )
        print(
            f"import seconds: {meter.seconds:.2f} "
            f"(CPU {meter.cpu:.2f}; {meter.load_text()})"
        )
        print(f"rows/s import: {import_rate:.0f}")
        print(
            f"import SQL queries: {meter.sql} ({meter.sql / max(rows, 1):.2f} per row)"
        )
        print(f"import peak memory: {meter.memory_text()}")
        samples = meter.batch_rss
        if samples:
            picks = sorted({0, len(samples) // 4, len(samples) // 2, len(samples) - 1})
            trace = ", ".join(
                f"batch {i + 1}: {samples[i] / 1024:.0f} MB" for i in picks
            )
            print(
                f"import RSS as its batches start ({len(samples)} batches of "
                f"{meter.batch_size} lines): {trace}"
            )
        cr.rollback()

        floor = floor_part(env, line_data)
        floor_rate = rate(rows, floor.seconds)
        print(
            f"floor: {len(line_data)} statement lines for {rows} rows, batched "
            f"create of {FLOOR_BATCH}, suspense counterpart, no matching, "
            "no chatter"
        )
        print(
            f"floor seconds: {floor.seconds:.2f} "
            f"(CPU {floor.cpu:.2f}; {floor.load_text()})"
        )
        print(f"rows/s floor: {floor_rate:.0f}")
        print(
            f"floor SQL queries: {floor.sql} ({floor.sql / max(rows, 1):.2f} per row)"
        )
        print(f"floor peak memory: {floor.memory_text()}")
        print(f"ratio import/floor: {import_rate / floor_rate:.2f} (target >= 0.5)")
        cr.rollback()

        from odoo.addons.amazon_refund_connector.sp_api import reports

        (full, full_entries), (part, part_entries), doc_rows, size = layer_peaks(
            account, reports
        )
        print(
            f"layer peak memory: {full / MB / 1024:.2f} MB for the whole document "
            f"({doc_rows} rows, {size / MB / 1024:.1f} MB, {full_entries} lines), "
            f"{part / MB / 1024:.2f} MB for its first quarter ({part_entries} lines)"
        )
    finally:
        cr.close()
        sandbox.stop()
        if not args.keep:
            drop_database(db)
    print(f"work files: {work_dir}")


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
