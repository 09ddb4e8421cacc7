"""Partner matching keys as keyed hashes instead of clear buyer data.

A stored key is the clear identity the connector matched buyers on; its
keyed hash is what the connector computes from an order now, so repeat
buyers keep matching their partner.
"""

from psycopg2.extras import execute_values

from odoo import SUPERUSER_ID, api

from odoo.addons.amazon_refund_connector.models.res_partner import (
    HASHED_KEY_PREFIX,
    hashed_key,
)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    secret = env["res.partner"]._amazon_key_secret()
    cr.execute(
        """
        SELECT id, amazon_key FROM res_partner
         WHERE (amazon_key LIKE 'amazon-buyer:%%'
                AND amazon_key NOT LIKE %s)
            OR (amazon_key LIKE 'amazon-anonymous:%%>%%')
        """,
        (HASHED_KEY_PREFIX + "%",),
    )
    rows = [(partner_id, hashed_key(secret, key)) for partner_id, key in cr.fetchall()]
    execute_values(
        cr._obj,
        "UPDATE res_partner p SET amazon_key = v.key"
        " FROM (VALUES %s) AS v(id, key) WHERE p.id = v.id",
        rows,
        page_size=1000,
    )
