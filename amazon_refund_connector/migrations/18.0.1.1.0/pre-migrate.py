"""Rate-limit buckets keyed by seller and region instead of account record.

Each row gets the bucket of its account's seller; where two account records
of one seller had a bucket each, the emptier one is kept (it is the closer to
what Amazon counted).
"""


def migrate(cr, version):
    cr.execute(
        """
        SELECT 1 FROM information_schema.columns
         WHERE table_name = 'amazon_rate_limit' AND column_name = 'account_ref'
        """
    )
    if not cr.fetchone():
        return
    cr.execute("ALTER TABLE amazon_rate_limit ADD COLUMN IF NOT EXISTS bucket varchar")
    cr.execute(
        """
        UPDATE amazon_rate_limit r
           SET bucket = CASE
                   WHEN COALESCE(TRIM(a.seller_ref), '') <> ''
                   THEN UPPER(COALESCE(a.region, ''))
                        || ':' || UPPER(TRIM(a.seller_ref))
                   ELSE 'account:' || r.account_ref
               END
          FROM amazon_account a
         WHERE a.id = r.account_ref
        """
    )
    cr.execute(
        "UPDATE amazon_rate_limit SET bucket = 'account:' || account_ref"
        " WHERE bucket IS NULL"
    )
    cr.execute(
        """
        DELETE FROM amazon_rate_limit r
         USING amazon_rate_limit other
         WHERE r.bucket = other.bucket
           AND r.operation = other.operation
           AND (r.tokens, r.id) > (other.tokens, other.id)
        """
    )
    cr.execute(
        "ALTER TABLE amazon_rate_limit"
        " DROP CONSTRAINT IF EXISTS amazon_rate_limit_account_operation_unique"
    )
    cr.execute("ALTER TABLE amazon_rate_limit DROP COLUMN account_ref")
