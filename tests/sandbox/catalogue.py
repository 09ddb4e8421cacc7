"""The demo seller's catalogue: SKUs, titles, list prices, fulfilment channels.

A product family gives several SKUs (one per variant). Prices are in USD and
converted per currency with the rates below, then rounded to a shelf price.
"""

import hashlib
from decimal import ROUND_HALF_UP, Decimal

from .money import decimals

# (sku template, title template, USD price, channels, variants)
# channels: "FBA", "FBM" or "FBA+FBM" (the same SKU sold both ways).
FAMILIES = [
    (
        "MUG-CER-{v}",
        "Ceramic Coffee Mug 350 ml, {v}",
        "12.99",
        "FBA+FBM",
        ["WHITE", "BLACK", "SAGE"],
    ),
    (
        "MUG 350ML/{v}",
        "Enamel Camping Mug 350 ml - {v}",
        "9.49",
        "FBM",
        ["BLUE", "RED"],
    ),
    (
        "Café-Tasse-{v}",
        "Porzellan Café-Tasse mit Untertasse, {v}",
        "14.90",
        "FBM",
        ["Weiß", "Grün"],
    ),
    (
        "TUMBLER-{v}",
        "Insulated Tumbler 600 ml with Lid, {v}",
        "24.99",
        "FBA",
        ["STEEL", "MIDNIGHT", "ROSE"],
    ),
    ("タンブラー-{v}", "真空断熱タンブラー 350ml {v}", "19.99", "FBA", ["白", "黒"]),
    (
        "CABLE-USBC-{v}",
        "USB-C to USB-C Cable 100W, {v}",
        "11.99",
        "FBA+FBM",
        ["1M", "2M", "3M"],
    ),
    (
        "CABLE USB-C/{v}",
        "Braided USB-C Charging Cable {v}",
        "8.99",
        "FBM",
        ["1m", "2m"],
    ),
    (
        "CHARGER-GAN-{v}",
        "GaN Wall Charger {v} with 3 Ports",
        "39.99",
        "FBA",
        ["65W", "100W"],
    ),
    ("PWRBANK-{v}", "Slim Power Bank {v} mAh", "29.99", "FBA", ["10000", "20000"]),
    (
        "TSHIRT-ORG-{v}",
        "Organic Cotton T-Shirt, Unisex, Size {v}",
        "19.50",
        "FBA+FBM",
        ["S", "M", "L", "XL"],
    ),
    ("HOODIE-{v}", "Heavyweight Hoodie, Size {v}", "49.00", "FBA", ["M", "L"]),
    (
        "SOCKS-WOOL-{v}",
        "Merino Wool Hiking Socks, 3 Pairs, {v}",
        "21.99",
        "FBM",
        ["EU39-42", "EU43-46"],
    ),
    (
        "Écharpe-laine-{v}",
        "Écharpe en laine mérinos, {v}",
        "34.00",
        "FBM",
        ["gris", "bordeaux"],
    ),
    (
        "YOGA-MAT-{v}",
        "Non-Slip Yoga Mat 6 mm, {v}",
        "32.95",
        "FBA",
        ["PURPLE", "TEAL", "GREY"],
    ),
    (
        "BOTTLE-{v}",
        "Stainless Steel Water Bottle {v}",
        "17.99",
        "FBA+FBM",
        ["500ML", "750ML", "1L"],
    ),
    (
        "LAMP-DESK-{v}",
        "LED Desk Lamp with Wireless Charger, {v}",
        "45.99",
        "FBM",
        ["BLACK", "WHITE"],
    ),
    ("BULB-E27-{v}", "Smart LED Bulb E27, {v}", "15.99", "FBA", ["1PK", "4PK"]),
    (
        "NOTEBOOK-A5-{v}",
        "Hardcover Dotted Notebook A5, {v}",
        "13.49",
        "FBA+FBM",
        ["NAVY", "OCHRE", "FOREST"],
    ),
    ("PEN-GEL-{v}", "Gel Ink Pens 0.5 mm, {v}", "7.99", "FBM", ["12PK", "24PK"]),
    (
        "KNIFE-CHEF-{v}",
        "Chef's Knife {v}, German Steel",
        "59.00",
        "FBM",
        ["20CM", "24CM"],
    ),
    (
        "PAN-CAST-{v}",
        "Pre-Seasoned Cast Iron Skillet {v}",
        "36.99",
        "FBA",
        ["25CM", "30CM"],
    ),
    (
        "TEA-SENCHA-{v}",
        "Organic Japanese Sencha Green Tea, {v}",
        "16.50",
        "FBA+FBM",
        ["100G", "250G"],
    ),
    (
        "SKU#BUNDLE ({v})",
        "Starter Bundle: Mug, Tumbler and Bottle ({v})",
        "54.99",
        "FBM",
        ["2-pack", "3-pack"],
    ),
    (
        "GLOVES-TOUCH-{v}",
        "Touchscreen Knit Gloves, Size {v}",
        "14.99",
        "FBA",
        ["S", "M", "L"],
    ),
    (
        "PLANT-POT-{v}",
        "Self-Watering Plant Pot {v}",
        "18.99",
        "FBA+FBM",
        ["12CM", "16CM"],
    ),
    (
        "PUZZLE-1000-{v}",
        "Jigsaw Puzzle 1000 Pieces, {v}",
        "22.99",
        "FBA",
        ["ALPS", "HARBOUR"],
    ),
]

# USD -> currency multipliers for shelf prices.
PRICE_FACTORS = {
    "USD": "1",
    "CAD": "1.37",
    "MXN": "18.5",
    "GBP": "0.82",
    "EUR": "0.95",
    "SEK": "10.6",
    "PLN": "4.05",
    "JPY": "152",
    "AUD": "1.55",
}

GIFT_WRAP_PRICES = {
    "USD": "3.99",
    "CAD": "4.99",
    "MXN": "59.00",
    "GBP": "2.99",
    "EUR": "3.99",
    "SEK": "39.00",
    "PLN": "15.99",
    "JPY": "300",
    "AUD": "4.95",
}

SHIPPING_PRICES = {
    "USD": ["0", "4.99", "5.99", "7.49"],
    "CAD": ["0", "6.99", "8.99"],
    "MXN": ["0", "79.00", "99.00"],
    "GBP": ["0", "2.99", "3.95"],
    "EUR": ["0", "3.99", "4.90", "5.99"],
    "SEK": ["0", "49.00", "59.00"],
    "PLN": ["0", "12.99", "14.99"],
    "JPY": ["0", "350", "500"],
    "AUD": ["0", "7.95", "9.95"],
}


def _asin(sku):
    digest = hashlib.sha1(sku.encode("utf-8")).hexdigest().upper()
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    number = int(digest[:16], 16)
    chars = []
    for _ in range(8):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "B0" + "".join(chars)


def _build():
    products = []
    for sku_template, title_template, price, channels, variants in FAMILIES:
        for variant in variants:
            sku = sku_template.format(v=variant)
            products.append(
                {
                    "sku": sku,
                    "asin": _asin(sku),
                    "title": title_template.format(
                        v=variant.title()
                        if variant.isupper() and variant.isalpha()
                        else variant
                    ),
                    "usd_price": Decimal(price),
                    "channels": tuple(channels.split("+")),
                }
            )
    return products


PRODUCTS = _build()


def shelf_price(product, currency):
    """The product's unit price in a currency, rounded as shops do (x.99, JPY x80)."""
    raw = product["usd_price"] * Decimal(PRICE_FACTORS[currency])
    if decimals(currency) == 0:
        hundreds = (raw / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return max(hundreds * 100 - 20, Decimal(80))
    whole = raw.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if currency == "SEK":
        return whole.quantize(Decimal("0.01"))
    return max(whole - Decimal("0.01"), Decimal("0.99"))


def products_for(channel):
    return [p for p in PRODUCTS if channel in p["channels"]]
