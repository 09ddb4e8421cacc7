#!/usr/bin/env python3
"""Benchmark of the Amazon refund import against a plain credit-note floor.

Usage, from the repository root::

    python3 tests/bench_refund_import.py [--refunds 1000] [--orders 3000]
                                         [--database bench_amazon_refunds]
                                         [--keep]

Set-up (not timed): the script installs ``amazon_refund_connector`` in a new
``--database``, starts the SP-API sandbox in this process with a seller on
eight European marketplaces and ``--orders`` seeded orders, and imports them
with the connector (``_sync_orders``, committed): the orders Amazon shipped
are invoiced at import. The sandbox then posts one full refund, an hour old,
for each of the first ``--refunds`` invoiced FBA orders (a return of every
unit, with Amazon's commission and refund commission).

One run prints, as plain ``name: value`` lines:

* ``refunds/s floor``: credit notes of those refunds made without the
  connector by one batched ``account.move.create([...])`` and
  ``action_post()``, then a flush: for each refund a credit note of the
  order's customer, in the invoice's journal and currency, reversing the
  invoice, with one line per amount Amazon gave back to the buyer (product
  of the invoice line of the item, the item's taxes on principal, shipping
  and gift wrap). Not timed: reading the transactions from the sandbox,
  parsing them and building the ``vals``. Run in a transaction that is
  rolled back.
* ``refunds/s end to end``: refunds imported by one
  ``account._import_refunds(client)`` as the queue job runs it (committing
  page by page), from the client's creation to the last page stored: the
  LWA token, every listTransactions page, parsing, de-duplication, matching
  Amazon's items to order lines, credit notes reversing and reconciled with
  the invoices, and the overview entries (one per item and amount type,
  Amazon's fees included).
* ``ratio connector/floor`` and ``SP-API calls per 1,000 refunds`` (every
  call the sandbox logged during the import).

The load average around each part is printed: other work on the machine
shows in the figures, and both parts ran in the same conditions only if
those are alike.
"""

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_order_sync import (
    Meter,
    configure_odoo,
    drop_database,
    install_database,
    open_env,
    rate,
    set_up,
    start_sandbox,
)

TAXED_KINDS = ("PRINCIPAL", "SHIPPING", "GIFT_WRAP", "PROMOTION")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refunds", type=int, default=1000)
    parser.add_argument(
        "--orders",
        type=int,
        default=3000,
        help="seeded orders; about half are refundable FBA orders",
    )
    parser.add_argument("--database", default="bench_amazon_refunds")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database afterwards"
    )
    parser.add_argument("--time-scale", type=float, default=1000.0)
    parser.add_argument("--seed", type=int, default=2027)
    return parser.parse_args()


def import_orders(env, account):
    client = account._get_client()
    try:
        result = account.with_context(
            amazon_commit_pages=True, amazon_order_history=False
        )._sync_orders(client)
    finally:
        client.close()
    env.cr.commit()
    if result.failures:
        raise SystemExit(f"the order import failed: {list(result.failures)[:5]}")


def plant_refunds(env, sandbox, seller, account, count):
    sales = (
        env["sale.order"]
        .search(
            [
                ("amazon_account_id", "=", account.id),
                ("amazon_channel", "=", "FBA"),
                ("state", "=", "sale"),
            ],
            order="id",
        )
        .filtered("invoice_ids")[:count]
    )
    if len(sales) < count:
        raise SystemExit(
            f"only {len(sales)} invoiced FBA orders to refund: raise --orders"
        )
    posted = datetime.utcnow() - timedelta(hours=1)
    for index, sale in enumerate(sales):
        sandbox.refund_order(
            sale.amazon_order_ref,
            seller_id=seller["seller_id"],
            posted=posted + timedelta(seconds=index),
            reason="Customer return",
        )
    return sales


def floor_vals(env, sandbox, seller, sales):
    """The credit notes of the planted refunds, as ``account.move`` vals."""
    from odoo.addons.amazon_refund_connector.sp_api.finances import parse_refund

    by_ref = {sale.amazon_order_ref: sale for sale in sales}
    vals_list = []
    for transaction in sandbox.transactions_of(seller["seller_id"]):
        if transaction.get("transactionType") != "Refund":
            continue
        refund = parse_refund(transaction)
        sale = by_ref.get(refund.order_id)
        if not sale:
            continue
        invoice = sale.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")[:1]
        by_sku = {
            line.product_id.default_code: line for line in invoice.invoice_line_ids
        }
        any_line = invoice.invoice_line_ids[:1]
        lines = []
        for item in refund.items:
            source = by_sku.get(item.sku, any_line)
            for line in item.buyer_lines:
                lines.append(
                    (
                        0,
                        0,
                        {
                            "product_id": source.product_id.id,
                            "name": f"{item.sku} {line.kind}",
                            "quantity": 1,
                            "price_unit": float(-line.amount),
                            "account_id": source.account_id.id,
                            "tax_ids": [(6, 0, source.tax_ids.ids)]
                            if line.kind in TAXED_KINDS
                            else [(5, 0, 0)],
                        },
                    )
                )
        vals_list.append(
            {
                "move_type": "out_refund",
                "partner_id": invoice.partner_id.id,
                "journal_id": invoice.journal_id.id,
                "currency_id": invoice.currency_id.id,
                "invoice_date": refund.posted.date(),
                "reversed_entry_id": invoice.id,
                "ref": refund.refund_id,
                "invoice_line_ids": lines,
            }
        )
    return vals_list


def run_floor(env, vals_list):
    moves = env["account.move"].with_context(
        tracking_disable=True, mail_create_nosubscribe=True
    )
    meter = Meter()
    notes = moves.create(vals_list)
    notes.action_post()
    env.flush_all()
    meter.stop()
    count = len(notes)
    env.cr.rollback()
    env.invalidate_all()
    return count, meter


def run_import(env, sandbox, account):
    calls = sandbox.call_count()
    meter = Meter()
    client = account._get_client()
    try:
        result = account.with_context(amazon_commit_pages=True)._import_refunds(client)
    finally:
        client.close()
    env.cr.commit()
    meter.stop()
    return result, meter, sandbox.call_count() - calls


def show(name, count, meter):
    print(f"{name} refunds: {count}")
    print(f"{name} seconds: {meter.seconds:.2f} (CPU {meter.cpu:.2f})")
    print(f"{name} SQL queries: {meter.sql} ({meter.sql / max(count, 1):.1f} a refund)")
    print(f"{name} memory: {meter.memory_text()}")
    print(f"{name} {meter.load_text()}")


def main():
    args = parse_args()
    db = args.database
    configure_odoo(db)
    work_dir = Path(tempfile.mkdtemp(prefix="bench_refunds_"))
    drop_database(db)
    started = time.perf_counter()
    install_database(db, work_dir / "install.log")
    sandbox, seller, orders = start_sandbox(args)
    env = open_env(db)
    try:
        account, _skus, _marketplaces = set_up(env, sandbox, seller, orders)
        account.invoice_orders = True
        env.cr.commit()
        import_orders(env, account)
        sales = plant_refunds(env, sandbox, seller, account, args.refunds)
        vals_list = floor_vals(env, sandbox, seller, sales)
        print(f"set-up seconds: {time.perf_counter() - started:.0f}")
        floor_count, floor = run_floor(env, vals_list)
        result, sync, calls = run_import(env, sandbox, account)
        imported = len(result.created)
        if result.failures or imported != floor_count:
            raise SystemExit(
                f"the import stored {imported} of {floor_count} refunds; "
                f"failures: {list(result.failures.items())[:5]}"
            )
        show("floor", floor_count, floor)
        show("connector", imported, sync)
        floor_rate = rate(floor_count, floor.seconds)
        sync_rate = rate(imported, sync.seconds)
        print(f"refunds/s floor: {floor_rate:.1f}")
        print(f"refunds/s end to end: {sync_rate:.1f}")
        print(f"ratio connector/floor: {sync_rate / floor_rate:.2f} (target >= 0.7)")
        print(f"SP-API calls per 1,000 refunds: {calls * 1000 / imported:.1f}")
    finally:
        env.cr.close()
        sandbox.stop()
        if not args.keep:
            drop_database(db)


if __name__ == "__main__":
    main()
