"""Command line: run the sandbox as its own process (for the demo)."""

import argparse
import signal
import sys

from .marketplaces import resolve_marketplace
from .server import SandboxServer

DEMO_SELLER = (
    "A2DEMOSELLER01:amzn1.application-oa2-client.demo:demo-secret:"
    "Atzr|demo-refresh-token:US,CA,DE,FR,UK,IT,ES"
)


def parse_seller(text):
    """SELLER_ID:CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN:MKT1,MKT2 (ids or codes)."""
    parts = text.split(":")
    if len(parts) < 5:
        raise argparse.ArgumentTypeError(
            "expected SELLER_ID:CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN:MKT1,MKT2"
        )
    try:
        marketplaces = [
            resolve_marketplace(value.strip())
            for value in parts[-1].split(",")
            if value.strip()
        ]
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return {
        "seller_id": parts[0],
        "client_id": parts[1],
        "client_secret": ":".join(parts[2:-2]),
        "refresh_token": parts[-2],
        "marketplaces": marketplaces,
    }


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sandbox", description="Loopback SP-API sandbox."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123, help="0 picks a free port")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiplies every quota's refill rate",
    )
    parser.add_argument(
        "--settle-seconds",
        type=int,
        default=120,
        help="how far before now the newest searchable moment lies",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the generated orders"
    )
    parser.add_argument(
        "--orders", type=int, default=0, help="orders to generate for each seller"
    )
    parser.add_argument(
        "--seller",
        action="append",
        type=parse_seller,
        metavar="SPEC",
        help="SELLER_ID:CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN:MKT1,MKT2 "
        "(repeatable; default: a demo seller)",
    )
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    sellers = args.seller or [parse_seller(DEMO_SELLER)]
    server = SandboxServer(
        host=args.host,
        port=args.port,
        time_scale=args.time_scale,
        settle_seconds=args.settle_seconds,
    )
    for seller in sellers:
        server.add_seller(**seller)
    for index, seller in enumerate(sellers):
        if args.orders:
            server.seed_orders(
                args.seed + index, args.orders, seller_id=seller["seller_id"]
            )
    server.start()
    print(f"SP-API sandbox listening on {server.url}", flush=True)
    for seller in sellers:
        print(
            f"  seller {seller['seller_id']} client {seller['client_id']} marketplaces "
            f"{','.join(seller['marketplaces'])}",
            flush=True,
        )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
