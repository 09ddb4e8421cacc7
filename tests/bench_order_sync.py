#!/usr/bin/env python3
"""Benchmark of the Amazon order sync against a plain ORM floor.

Usage, from the repository root::

    python3 tests/bench_order_sync.py [--orders 2000] [--database bench_amazon]
                                      [--keep] [--no-commit] [--profile]
                                      [--fba-share 0.55] [--no-invoice]

One run prints, as plain ``name: value`` lines:

* ``orders/s end to end``: sale orders created by one full
  ``account._sync_orders(client)`` from an empty cursor, divided by its wall
  clock time. The timed part starts before ``account._get_client()`` and ends
  once the last page is stored (committed, or flushed with ``--no-commit``).
  It includes the LWA token call, every searchOrders page, the rate-limit
  bookkeeping in PostgreSQL, parsing, partners, taxes, pricelists, order
  creation, confirmation (stock pickings), cancellation and, for the FBA
  orders Amazon shipped, their deliveries booked as done and, as the
  account invoices its orders by default (``invoice_orders``), their
  customer invoices posted.
* ``orders/s floor``: the same orders created without the connector by one
  batched ``sale.order.create([...])``, ``action_confirm()`` on the orders
  the connector confirms and ``_action_cancel()`` on those Amazon cancelled,
  then a flush. Not timed: reading the sandbox data, creating one partner per
  order (one batch), a pricelist per currency, one fixed price-included tax,
  a service product for the charges and building the ``vals`` dictionaries.
  The lines are those Amazon charged, one per item and charge (item,
  shipping, gift wrap, promotion...) with product, quantity, unit price and
  the fixed tax. The create uses the context the connector uses
  (``tracking_disable``, ``mail_create_nosubscribe``), so the floor is what
  the ORM itself costs for these orders. It books no FBA delivery: every
  confirmed order gets a delivery to process from the company's warehouse.
  It posts no invoice: with ``invoice_orders`` (the default) the sync does
  more than the floor. The seconds the sync spends in
  ``_amazon_invoice_shipped`` are printed, and so are its rate and ratio
  without them (an estimate).
* ``--no-invoice`` turns the account's ``invoice_orders`` off, so that the
  sync and the floor do the same work: the measure as it was before the
  connector invoiced at import. ``--fba-share`` sets the share of FBA orders
  the sandbox seeds (its default 0.55) for FBA-heavy or merchant-heavy mixes.
* ``ratio connector/floor`` (orders/s of the sync divided by those of the
  floor), ``SP-API calls per 1,000 orders`` (every call the sandbox logged
  during the sync, the LWA token call included, per 1,000 orders created),
  the SQL queries of each part (``odoo.sql_db.sql_counter``, which also
  counts the rate limiter's own short cursors) and the peak resident memory
  of each part (``VmHWM`` of ``/proc/self/status``, reset before each part
  through ``/proc/self/clear_refs``; ``ru_maxrss`` where that is missing).
  tracemalloc is not used: it slows the ORM down several times.

Set-up: the script drops ``--database`` if it exists and installs
``amazon_refund_connector`` in it without demo data (``python3 -m odoo -i ...
--stop-after-init``). It starts the SP-API sandbox in this process
(``time_scale`` 1000, so that rate limits do not dominate, and
``settle_seconds`` 0), adds a seller on eight European marketplaces (DE, FR,
IT, ES, NL, UK, SE, PL: EUR, GBP, SEK and PLN) and seeds ``--orders`` orders
of the last 29 days, fulfilled by Amazon and by the merchant, in every
status. It then creates and commits what the first sync of a real account
finds: the account pointed at the sandbox, rates of the four currencies and
a storable product per seller SKU. Each process warms its code path up on
a few orders (rolled back; the connector's without calling the sandbox) so
that neither pays Odoo's first-call caches.

Transactions and processes: the floor runs first, in a child process of
this script (so that its memory is not counted in the sync's), in one
transaction it rolls back; the sync therefore starts from the committed
set-up with no order, partner or Amazon tax in the database. The sync then
runs the way the queue job runs it (``_job_sync_orders``): with
``amazon_commit_pages`` in the context and ``odoo.tools.config['test_enable']``
left False, so it commits after every page of 100 orders and the timings
include those commits and the cache and memory growth across pages of one
long job. That is the real thing; the database is then dropped unless
``--keep``. ``--no-commit`` calls ``_sync_orders`` without
``amazon_commit_pages``, which is enough for it not to commit (the commit
needs that flag and ``test_enable`` False; setting ``test_enable`` would
also change other modules' behaviour), runs the whole sync in one
transaction, rolls it back and shows the cost of the commits by difference.

The sandbox runs in this process: its answers (building and serialising
the JSON of a page) count in the sync's wall clock time and CPU, as the
network would. The script prints the load average around each timed part:
other work on the machine shows in the figures.

``--profile`` runs the sync under cProfile (its figures are then slower
than real) and prints the 15 functions of the connector and of Odoo with
the highest cumulative time, Odoo's highest own times and a few selected
Odoo calls; the raw profile is written next to the install log.
"""

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
ADDON = "amazon_refund_connector"

MARKETPLACES = {
    "DE": "A1PA6795UKMFR9",
    "FR": "A13V1IB3VIYZZH",
    "IT": "APJ6JRA9NG5V4",
    "ES": "A1RKKUPIHCS9HS",
    "NL": "A1805IZSGTT6HS",
    "UK": "A1F83G8C2ARO7P",
    "SE": "A2NODRKZP88ZB9",
    "PL": "A1C3SOZRARQ6R3",
}
# Units of each currency per unit of the company currency.
RATES = {"EUR": 0.92, "GBP": 0.79, "SEK": 10.6, "PLN": 3.95}
# Fulfilment statuses the connector imports, per fulfilledBy.
IMPORTED = {
    "AMAZON": {"SHIPPED", "CANCELLED"},
    "MERCHANT": {"UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED"},
}
WARMUP_ORDERS = 10
SEED = 2026
MB = 1024.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--orders",
        type=int,
        default=2000,
        help="orders seeded in the sandbox (default 2000)",
    )
    parser.add_argument(
        "--database",
        default="bench_amazon",
        help="database created for the run (dropped first)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (with the synced orders)"
    )
    parser.add_argument(
        "--no-commit",
        action="store_true",
        help="run the sync in one transaction and roll it back "
        "instead of committing page by page",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the sync under cProfile and print its hot spots",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1000.0,
        help="sandbox quota refill speed-up (default 1000)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--fba-share",
        type=float,
        default=None,
        help="share of FBA orders seeded (sandbox default 0.55)",
    )
    parser.add_argument(
        "--no-invoice",
        action="store_true",
        help="the account does not invoice its orders (as the floor)",
    )
    parser.add_argument("--floor-child", metavar="ORDERS_JSON", help=argparse.SUPPRESS)
    return parser.parse_args()


# -- process figures ---------------------------------------------------


def _status_kb(key):
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_memory():
    """Reset the peak RSS of the process; False where Linux does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


class Meter:
    """Wall clock, CPU, SQL queries and memory of one measured part."""

    def __init__(self):
        import odoo.sql_db

        self._sql_db = odoo.sql_db
        self.peak_resettable = reset_peak_memory()
        self.rss_start = _status_kb("VmRSS")
        self.sql_start = self._sql_db.sql_counter
        self.load_start = os.getloadavg()[0]
        self.cpu_start = time.process_time()
        self.start = time.perf_counter()
        self.seconds = self.cpu = self.sql = self.load_end = None
        self.peak_kb = self.rss_end = None

    def stop(self):
        self.seconds = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.cpu_start
        self.sql = self._sql_db.sql_counter - self.sql_start
        self.load_end = os.getloadavg()[0]
        self.rss_end = _status_kb("VmRSS")
        if self.peak_resettable:
            self.peak_kb = _status_kb("VmHWM")
        else:
            self.peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def memory_text(self):
        what = "peak RSS of the part" if self.peak_resettable else "process peak RSS"
        text = f"{self.peak_kb / MB:.0f} MB ({what}"
        if self.rss_start is not None and self.rss_end is not None:
            text += f"; RSS {self.rss_start / MB:.0f} -> {self.rss_end / MB:.0f} MB"
        return text + ")"

    def load_text(self):
        return f"load average {self.load_start:.1f} -> {self.load_end:.1f}"


def code_state():
    """HEAD, uncommitted files and a digest of the connector and the sandbox."""
    digest = hashlib.sha1()
    for folder in (REPO / ADDON, TESTS / "sandbox"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".xml", ".csv"):
                digest.update(str(path.relative_to(REPO)).encode())
                digest.update(path.read_bytes())

    def git(*args):
        done = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
        )
        return done.stdout

    head = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    dirty = git("status", "--porcelain", "--", ADDON, "tests/sandbox").splitlines()
    return head, len(dirty), digest.hexdigest()[:12]


# -- database ----------------------------------------------------------


def addons_path():
    import odoo

    return ",".join([os.path.join(os.path.dirname(odoo.__file__), "addons"), str(REPO)])


def drop_database(db):
    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import SQL

    Registry.delete(db)
    odoo.sql_db.close_db(db)
    connection = odoo.sql_db.db_connect("postgres")
    with connection.cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid != pg_backend_pid()",
            (db,),
        )
        cr.execute(SQL("DROP DATABASE IF EXISTS %s", SQL.identifier(db)))
    filestore = odoo.tools.config.filestore(db)
    if os.path.isdir(filestore):
        shutil.rmtree(filestore)


def install_database(db, log_file):
    command = [
        sys.executable,
        "-m",
        "odoo",
        "-d",
        db,
        "-i",
        ADDON,
        f"--addons-path={addons_path()}",
        "--stop-after-init",
        "--without-demo=all",
        "--log-level=warn",
        f"--logfile={log_file}",
    ]
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO, check=False, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    log = Path(log_file).read_text(encoding="utf-8", errors="replace")
    errors = [
        line.rstrip()
        for line in log.splitlines()
        if " ERROR " in line or " CRITICAL " in line
    ]
    if done.returncode or errors:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        sys.stderr.write("\n".join(errors[:20]) + "\n")
        raise SystemExit(f"installing {ADDON} in {db} failed (see {log_file})")
    return seconds


# -- sandbox -----------------------------------------------------------


def start_sandbox(args):
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    from sandbox import SandboxServer

    sandbox = SandboxServer(time_scale=args.time_scale, settle_seconds=0)
    sandbox.start()
    token = uuid.uuid4().hex
    seller = {
        "seller_id": f"A{token[:12].upper()}",
        "client_id": f"amzn1.application-oa2-client.{token[:16]}",
        "client_secret": f"secret-{token}",
        "refresh_token": f"Atzr|refresh-{token}",
        "marketplaces": list(MARKETPLACES.values()),
    }
    sandbox.add_seller(**seller)
    # Inside the 30 days the first sync looks back, whatever the clock does.
    start = datetime.now(timezone.utc) - timedelta(days=29)
    extra = {} if args.fba_share is None else {"fba_share": args.fba_share}
    orders = sandbox.seed_orders(
        args.seed, args.orders, seller_id=seller["seller_id"], start=start, **extra
    )
    return sandbox, seller, orders


def importable(order):
    fulfillment = order["fulfillment"]
    return fulfillment["fulfillmentStatus"] in IMPORTED[fulfillment["fulfilledBy"]]


def order_currency(order):
    total = (order.get("proceeds") or {}).get("grandTotal")
    if total:
        return total["currencyCode"]
    for item in order.get("orderItems") or []:
        money = (item.get("proceeds") or {}).get("proceedsTotal") or (
            (item.get("product") or {}).get("price") or {}
        ).get("unitPrice")
        if money:
            return money["currencyCode"]
    return None


# -- Odoo set-up -------------------------------------------------------


def set_up(env, sandbox, seller, orders, invoice_orders):
    """What the first sync of an account finds; committed by the caller."""
    company = env.company
    marketplaces = env["amazon.marketplace"].search(
        [("marketplace_ref", "in", list(MARKETPLACES.values()))]
    )
    account = env["amazon.account"].create(
        {
            "name": f"Amazon {seller['seller_id']}",
            "region": "EU",
            "seller_ref": seller["seller_id"],
            "lwa_client_id": seller["client_id"],
            "lwa_client_secret": seller["client_secret"],
            "refresh_token": seller["refresh_token"],
            "endpoint_override": sandbox.url,
            "lwa_endpoint_override": f"{sandbox.url}/auth/o2/token",
            "marketplace_ids": [(6, 0, marketplaces.ids)],
            "invoice_orders": invoice_orders,
        }
    )
    currencies = (
        env["res.currency"]
        .with_context(active_test=False)
        .search([("name", "in", list(RATES))])
    )
    currencies.active = True
    env["res.currency.rate"].create(
        [
            {
                "currency_id": currency.id,
                "company_id": company.id,
                "name": datetime.now().date() - timedelta(days=400),
                "rate": RATES[currency.name],
            }
            for currency in currencies
            if currency != company.currency_id
        ]
    )
    skus = sorted(
        {
            item["product"]["sellerSku"]
            for order in orders
            for item in order["orderItems"]
        }
    )
    env["product.product"].create(
        [{"name": sku, "default_code": sku, "is_storable": True} for sku in skus]
    )
    return account, len(skus), len(marketplaces)


# -- the floor ---------------------------------------------------------


class Floor:
    """Sale orders of Amazon's data through the plain ORM, without the connector."""

    def __init__(self, env, orders):
        self.env = env
        self.orders = orders
        company = env.company
        self.products = {
            p.default_code: p.id
            for p in env["product.product"].search([("default_code", "!=", False)])
        }
        self.charge_product = (
            env["product.product"]
            .create({"name": "Bench charge", "type": "service", "sale_ok": True})
            .id
        )
        self.tax = (
            env["account.tax"]
            .create(
                {
                    "name": "Bench VAT 20% incl.",
                    "company_id": company.id,
                    "type_tax_use": "sale",
                    "amount_type": "percent",
                    "amount": 20.0,
                    "price_include_override": "tax_included",
                }
            )
            .id
        )
        codes = {order_currency(o) for o in orders} - {None}
        currencies = env["res.currency"].search([("name", "in", list(codes))])
        self.pricelists = {
            currency.name: env["product.pricelist"]
            .create(
                {
                    "name": f"Bench {currency.name}",
                    "currency_id": currency.id,
                    "company_id": company.id,
                }
            )
            .id
            for currency in currencies
        }
        self.default_pricelist = (
            env["product.pricelist"]
            .create(
                {
                    "name": "Bench company currency",
                    "currency_id": company.currency_id.id,
                    "company_id": company.id,
                }
            )
            .id
        )
        countries = {c.code: c.id for c in env["res.country"].search([])}
        partner_vals = []
        for order in orders:
            buyer = order.get("buyer") or {}
            address = (order.get("recipient") or {}).get("deliveryAddress") or {}
            partner_vals.append(
                {
                    "name": buyer.get("buyerName")
                    or address.get("name")
                    or f"Amazon buyer {order['orderId']}",
                    "email": buyer.get("buyerEmail") or False,
                    "street": address.get("addressLine1") or False,
                    "city": address.get("city") or False,
                    "zip": address.get("postalCode") or False,
                    "country_id": countries.get(
                        address.get("countryCode") or "", False
                    ),
                    "customer_rank": 1,
                }
            )
        self.partners = env["res.partner"].create(partner_vals).ids
        self.vals_list = [
            self._order_vals(order, partner)
            for order, partner in zip(orders, self.partners, strict=True)
        ]
        self.line_count = sum(len(v["order_line"]) for v in self.vals_list)
        self.cancelled = [
            i
            for i, o in enumerate(orders)
            if o["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
        ]
        env.flush_all()

    def _order_vals(self, order, partner_id):
        lines = []
        for item in order["orderItems"]:
            product = item["product"]
            quantity = item["quantityOrdered"]
            breakdowns = (item.get("proceeds") or {}).get("breakdowns") or []
            charges = [
                (b["type"], Decimal(b["subtotal"]["amount"]))
                for b in breakdowns
                if b["type"] != "TAX"
            ]
            if not any(kind == "ITEM" for kind, _amount in charges):
                unit = Decimal(
                    ((product.get("price") or {}).get("unitPrice") or {}).get("amount")
                    or 0
                )
                charges.insert(0, ("ITEM", unit * quantity))
            for kind, amount in charges:
                if kind == "ITEM":
                    lines.append(
                        (
                            0,
                            0,
                            {
                                "product_id": self.products[product["sellerSku"]],
                                "name": product.get("title") or product["sellerSku"],
                                "product_uom_qty": quantity,
                                "price_unit": float(amount / quantity)
                                if quantity
                                else 0.0,
                                "tax_id": [(6, 0, [self.tax])],
                            },
                        )
                    )
                else:
                    lines.append(
                        (
                            0,
                            0,
                            {
                                "product_id": self.charge_product,
                                "name": f"{kind.title()}: {product['sellerSku']}",
                                "product_uom_qty": 1,
                                "price_unit": float(amount),
                                "tax_id": [(6, 0, [self.tax])],
                            },
                        )
                    )
        return {
            "partner_id": partner_id,
            "pricelist_id": self.pricelists.get(
                order_currency(order), self.default_pricelist
            ),
            "client_order_ref": order["orderId"],
            "origin": "Bench",
            "order_line": lines,
        }

    def run(self):
        """The timed part: create, confirm or cancel, flush."""
        sale_order = self.env["sale.order"].with_context(
            tracking_disable=True, mail_create_nosubscribe=True
        )
        sales = sale_order.create(self.vals_list)
        cancelled = sales.browse([sales.ids[i] for i in self.cancelled])
        (sales - cancelled).action_confirm()
        if cancelled:
            cancelled.with_context(disable_cancel_warning=True)._action_cancel()
        self.env.flush_all()
        return sales


# -- the sync ----------------------------------------------------------


class CallTimer:
    """Time spent in the client's SP-API calls and in its rate limiter."""

    def __init__(self):
        self.call_seconds = 0.0
        self.limiter_seconds = 0.0
        # (start, end) of every call: a page is imported between two calls.
        self.spans = []

    def wrap(self, client):
        call = client.call

        def timed_call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                end = time.perf_counter()
                self.call_seconds += end - start
                self.spans.append((start, end))

        client.call = timed_call
        limiter = client.limiter
        for name in ("acquire", "observe", "throttled"):
            method = getattr(limiter, name)
            setattr(limiter, name, self._timed(method))
        return client

    def _timed(self, method):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.limiter_seconds += time.perf_counter() - start

        return timed

    def page_seconds(self, sync_end):
        """Seconds spent storing each page: from its call's end to the next call."""
        ends = [end for _start, end in self.spans]
        starts = [start for start, _end in self.spans[1:]] + [sync_end]
        return [start - end for end, start in zip(ends, starts, strict=True)]


class InvoiceTimer:
    """Time the sync spends posting invoices (``_amazon_invoice_shipped``)."""

    def __init__(self, env):
        self.seconds = 0.0
        self.model_class = type(env["sale.order"])
        self.original = self.model_class._amazon_invoice_shipped
        timer = self

        def timed(records):
            start = time.perf_counter()
            try:
                return timer.original(records)
            finally:
                timer.seconds += time.perf_counter() - start

        self.model_class._amazon_invoice_shipped = timed

    def restore(self):
        self.model_class._amazon_invoice_shipped = self.original


def run_sync(env, account, commit_pages, timer):
    client = timer.wrap(account._get_client())
    try:
        if commit_pages:
            account = account.with_context(amazon_commit_pages=True)
        # Every order through searchOrders: the report path of a long
        # history is measured by bench_order_history.py.
        result = account.with_context(amazon_order_history=False)._sync_orders(client)
    finally:
        client.close()
    if commit_pages:
        env.cr.commit()  # as the queue job does when the job ends
    else:
        env.flush_all()
    return result


# -- profile output ----------------------------------------------------


def print_profile(profile, path, top=15):
    import odoo

    profile.dump_stats(path)
    stats = pstats.Stats(profile).stats
    odoo_dir = os.path.dirname(odoo.__file__) + os.sep
    addon_dir = f"{os.sep}{ADDON}{os.sep}"

    def rows(predicate, key):
        found = [
            (entry, data)
            for entry, data in stats.items()
            if predicate(entry[0]) and entry[2][:1] != "<"
        ]
        found.sort(key=lambda row: row[1][key], reverse=True)
        return found[:top]

    def show(title, found):
        print(f"profile: {title}")
        print(f"  {'cumulative s':>12} {'own s':>8} {'calls':>9}  function")
        for (filename, line, name), (_cc, calls, own, cumulative, _callers) in found:
            where = filename
            for prefix in (str(REPO) + os.sep, odoo_dir):
                if where.startswith(prefix):
                    where = where[len(prefix) :]
            print(
                f"  {cumulative:12.2f} {own:8.2f} {calls:9d}  {name} ({where}:{line})"
            )

    def is_connector(filename):
        return addon_dir in filename

    def is_odoo(filename):
        return filename.startswith(odoo_dir) and not is_connector(filename)

    show(f"top {top} of the connector by cumulative time", rows(is_connector, 3))
    show(f"top {top} of Odoo by cumulative time", rows(is_odoo, 3))
    show(f"top {top} of Odoo by own time", rows(is_odoo, 2))
    selected = [
        ("sale/models/sale_order.py", "action_confirm"),
        ("sale/models/sale_order.py", "_action_confirm"),
        ("sale_stock/models/sale_order_line.py", "_action_launch_stock_rule"),
        ("stock/models/stock_rule.py", "run"),
        ("stock/models/stock_picking.py", "create"),
        ("stock/models/stock_move.py", "_action_confirm"),
        ("stock/models/stock_move.py", "_action_assign"),
        ("stock/models/stock_move.py", "_assign_picking"),
        ("sale/models/sale_order.py", "create"),
        ("sale/models/sale_order.py", "_compute_amounts"),
        ("sale/models/sale_order.py", "_compute_tax_totals"),
        ("sale/models/sale_order_line.py", "_compute_amount"),
        ("base/models/res_partner.py", "create"),
        ("mail/models/mail_thread.py", "message_subscribe"),
        ("mail/models/mail_thread.py", "message_post"),
        ("odoo/api.py", "flush_all"),
        ("odoo/sql_db.py", "execute"),
        ("odoo/sql_db.py", "commit"),
    ]
    chosen = []
    for suffix, name in selected:
        for entry, data in stats.items():
            if entry[2] == name and entry[0].endswith(suffix.replace("/", os.sep)):
                chosen.append((entry, data))
    chosen.sort(key=lambda row: row[1][3], reverse=True)
    show("selected Odoo calls", chosen)
    builtins = {
        "HTTP sockets (sandbox answers)": ("of '_socket.socket' objects>",),
        "PostgreSQL (psycopg2 execute and commit)": (
            "<method 'execute' of 'psycopg2.extensions.cursor' objects>",
            "<method 'commit' of 'psycopg2.extensions.connection' objects>",
        ),
    }
    for label, names in builtins.items():
        waiting = sum(
            data[3]
            for entry, data in stats.items()
            if entry[0] == "~" and any(entry[2].endswith(n) for n in names)
        )
        print(f"profile: time waiting on {label}: {waiting:.2f} s")
    print(f"profile: raw profile written to {path}")


# -- main --------------------------------------------------------------


def rate(count, seconds):
    return count / seconds if seconds else float("nan")


def configure_odoo(db):
    from odoo.tools import config

    config.parse_config(
        [
            f"--addons-path={addons_path()}",
            "-d",
            db,
            "--log-level=warn",
            "--log-handler=:WARNING",
            "--without-demo=all",
        ]
    )
    return config


def open_env(db):
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    cr = Registry(db).cursor()
    return api.Environment(cr, SUPERUSER_ID, {})


def floor_child(db, orders_file):
    """The floor, in a process of its own; prints its figures as JSON."""
    configure_odoo(db)
    orders = json.loads(Path(orders_file).read_text(encoding="utf-8"))
    env = open_env(db)
    cr = env.cr
    try:
        Floor(env, orders[:WARMUP_ORDERS]).run()
        cr.rollback()
        floor = Floor(env, orders)
        meter = Meter()
        sales = floor.run()
        meter.stop()
        figures = {
            "orders": len(sales),
            "confirmed": len(sales.filtered(lambda s: s.state == "sale")),
            "lines": len(sales.order_line),
            "pickings": len(sales.picking_ids),
            "meter": {k: v for k, v in vars(meter).items() if not k.startswith("_")},
        }
        cr.rollback()
    finally:
        cr.close()
    sys.stdout.write("FLOOR " + json.dumps(figures) + "\n")


def run_floor(db, orders, work_dir):
    """Run the floor in a child process: its memory never mixes with the sync's."""
    orders_file = work_dir / "floor_orders.json"
    orders_file.write_text(json.dumps(orders), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--database",
            db,
            "--floor-child",
            str(orders_file),
        ],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("FLOOR ")]
    if done.returncode or not lines:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit("the floor failed")
    figures = json.loads(lines[-1][len("FLOOR ") :])
    meter = Meter.__new__(Meter)
    meter.__dict__.update(figures.pop("meter"))
    return figures, meter


def begin_run(db, prefix):
    """Print the code measured, install ``db`` afresh; returns the code's
    digest (for :func:`end_run`) and a work folder."""
    head, dirty, digest = code_state()
    print(
        f"connector code: HEAD {head}, {dirty} uncommitted files in {ADDON} and "
        f"tests/sandbox, files digest {digest}; {os.cpu_count()} CPUs"
    )
    work_dir = Path(tempfile.mkdtemp(prefix=prefix))
    drop_database(db)
    install_seconds = install_database(db, work_dir / "install.log")
    print(
        f"database: {db} (fresh, {ADDON} installed without demo data "
        f"in {install_seconds:.0f} s)"
    )
    return digest, work_dir


def end_run(db, keep, digest):
    """Drop ``db`` unless kept; warn if the code changed during the run."""
    if keep:
        print(f"database kept: {db}")
    else:
        drop_database(db)
        print(f"database dropped: {db}")
    if code_state()[2] != digest:
        print(
            "WARNING: the connector's files changed during the run: the figures "
            "may mix two versions of the code"
        )


def main():
    args = parse_args()
    os.chdir(REPO)
    db = args.database
    if args.floor_child:
        floor_child(db, args.floor_child)
        return
    config = configure_odoo(db)
    digest, work_dir = begin_run(db, "bench_order_sync_")

    sandbox, seller, orders = start_sandbox(args)
    env = open_env(db)
    cr = env.cr
    try:
        channels = Counter(o["fulfillment"]["fulfilledBy"] for o in orders)
        statuses = Counter(o["fulfillment"]["fulfillmentStatus"] for o in orders)
        print(
            f"sandbox: {len(orders)} orders seeded (seed {args.seed}) on "
            f"{', '.join(MARKETPLACES)}; {channels['AMAZON']} FBA, "
            f"{channels['MERCHANT']} FBM; statuses "
            + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
            + f"; time_scale {args.time_scale:g}, settle_seconds 0"
        )
        invoice = not args.no_invoice
        account, sku_count, mkt_count = set_up(env, sandbox, seller, orders, invoice)
        cr.commit()
        print(
            f"set-up: account on {mkt_count} marketplaces, {sku_count} products "
            f"(one per SKU), rates of {', '.join(RATES)}; company currency "
            f"{env.company.currency_id.name}; invoice_orders {invoice} (committed)"
        )
        to_import = [o for o in orders if importable(o)]
        print(
            f"orders the connector imports: {len(to_import)} "
            f"(the others are PENDING, or unshipped FBA orders)"
        )

        # -- the floor, in a child process, rolled back -------------------
        floor, floor_meter = run_floor(db, to_import, work_dir)
        floor_count = floor["orders"]
        floor_rate = rate(floor_count, floor_meter.seconds)
        print(
            f"floor: {floor_count} orders ({floor['confirmed']} confirmed, "
            f"{floor_count - floor['confirmed']} cancelled), {floor['lines']} lines, "
            f"{floor['pickings']} pickings; timed: create + action_confirm/"
            f"_action_cancel + flush; not timed: partners, pricelists, tax, vals; "
            f"run in a child process and rolled back"
        )
        print(
            f"floor seconds: {floor_meter.seconds:.2f} "
            f"(CPU of the process {floor_meter.cpu:.2f}; {floor_meter.load_text()})"
        )
        print(f"orders/s floor: {floor_rate:.1f}")
        print(
            f"floor SQL queries: {floor_meter.sql} "
            f"({floor_meter.sql / max(floor_count, 1):.1f} per order)"
        )
        print(f"floor peak memory: {floor_meter.memory_text()}")

        # -- the sync ---------------------------------------------------
        # Warm-up on a few orders without the sandbox, rolled back.
        env["sale.order"]._amazon_import_orders(account, orders[:WARMUP_ORDERS])
        env.flush_all()
        cr.rollback()
        commit_pages = not args.no_commit
        if commit_pages:
            print(
                "transaction mode: commit after every page, as the queue job "
                "(amazon_commit_pages in the context, "
                f"test_enable={config['test_enable']}); the database is dropped "
                "at the end unless --keep"
            )
        else:
            print(
                "transaction mode: one transaction rolled back at the end "
                "(no amazon_commit_pages in the context, so no page commits; "
                f"test_enable={config['test_enable']})"
            )
        account = env["amazon.account"].browse(account.id)
        if account.last_order_sync:
            raise SystemExit("the account's cursor is not empty")
        sandbox.clear_calls()
        timer = CallTimer()
        invoice_timer = InvoiceTimer(env)
        profile = cProfile.Profile() if args.profile else None
        sync_meter = Meter()
        if profile:
            profile.enable()
        result = run_sync(env, account, commit_pages, timer)
        if profile:
            profile.disable()
        sync_meter.stop()
        invoice_timer.restore()
        calls = Counter(operation for operation, _status, _query in sandbox.calls)
        call_total = sandbox.call_count()
        http = Counter(status for _operation, status, _query in sandbox.calls)

        created = env["sale.order"].browse(result.created)
        sync_count = len(created)
        sync_confirmed = len(created.filtered(lambda s: s.state == "sale"))
        sync_partners = env["res.partner"].search_count([("amazon_key", "!=", False)])
        sync_invoices = len(created.invoice_ids.filtered(lambda m: m.state == "posted"))
        sync_rate = rate(sync_count, sync_meter.seconds)
        fetched = (
            len(result.created)
            + len(result.updated)
            + len(result.skipped)
            + len(result.failures)
        )
        print(
            f"sync: {sync_count} orders created ({sync_confirmed} confirmed, "
            f"{sync_count - sync_confirmed} cancelled), {len(result.updated)} "
            f"updated, {len(result.skipped)} skipped, {len(result.failures)} failed; "
            f"{fetched} orders fetched; {len(created.order_line)} lines, "
            f"{len(created.picking_ids)} pickings, {sync_invoices} posted invoices, "
            f"{sync_partners} Amazon partners (customers and delivery addresses)"
        )
        if set(created.mapped("amazon_order_ref")) != {o["orderId"] for o in to_import}:
            print("WARNING: the sync did not create exactly the floor's orders")
        suffix = " (under cProfile: slower than real)" if profile else ""
        print(
            f"sync seconds: {sync_meter.seconds:.2f}{suffix} (CPU of the process, "
            f"sandbox thread included, {sync_meter.cpu:.2f}; in SP-API calls "
            f"{timer.call_seconds:.2f}, of which rate limiter "
            f"{timer.limiter_seconds:.2f}; Odoo import "
            f"{sync_meter.seconds - timer.call_seconds:.2f}; "
            f"{sync_meter.load_text()})"
        )
        pages = timer.page_seconds(sync_meter.start + sync_meter.seconds)
        if len(pages) > 1:
            shown = " ".join(f"{p:.1f}" for p in pages)
            print(
                f"sync seconds per page of 100 orders (after the page's call, the "
                f"last one with the cursor and commit): {shown}"
            )
        print(f"orders/s end to end: {sync_rate:.1f}{suffix}")
        print(f"orders/s floor: {floor_rate:.1f}")
        print(f"ratio connector/floor: {sync_rate / floor_rate:.2f}")
        if invoice:
            bare_rate = rate(sync_count, sync_meter.seconds - invoice_timer.seconds)
            print(
                f"sync seconds posting invoices: {invoice_timer.seconds:.2f} "
                f"({sync_invoices} invoices; the floor posts none)"
            )
            print(
                f"orders/s end to end less the invoicing time (estimate): "
                f"{bare_rate:.1f}{suffix}"
            )
            print(
                f"ratio connector/floor less the invoicing time (estimate; "
                f"--no-invoice measures it): {bare_rate / floor_rate:.2f}"
            )
        per_thousand = 1000.0 * call_total / sync_count if sync_count else float("nan")
        print(
            f"SP-API calls during the sync: {call_total} ("
            + ", ".join(f"{op} {n}" for op, n in sorted(calls.items(), key=str))
            + "; HTTP statuses "
            + ", ".join(f"{s} {n}" for s, n in sorted(http.items()))
            + ")"
        )
        print(
            f"SP-API calls per 1,000 orders: {per_thousand:.1f} per 1,000 created, "
            f"{1000.0 * call_total / max(fetched, 1):.1f} per 1,000 fetched "
            f"(target <= 12: {'met' if per_thousand <= 12 else 'NOT met'})"
        )
        print(
            f"sync SQL queries: {sync_meter.sql} "
            f"({sync_meter.sql / max(sync_count, 1):.1f} per order created; "
            f"floor {floor_meter.sql / max(floor_count, 1):.1f})"
        )
        print(f"sync peak memory: {sync_meter.memory_text()}")
        if profile:
            print_profile(profile, work_dir / "sync.prof")
        if not commit_pages:
            cr.rollback()
    finally:
        cr.close()
        sandbox.stop()
    end_run(db, args.keep, digest)
    if not args.profile:
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
