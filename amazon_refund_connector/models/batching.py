"""One step over many records at once, or record by record when that fails."""

import logging

from psycopg2.extensions import TransactionRollbackError

from odoo.models import BaseModel

_logger = logging.getLogger(__name__)


def in_batch_or_alone(cr, items, work, on_failure, what):
    """Run ``work(items)`` in one savepoint; if it fails, run it again for
    each item alone (a record, or a one-item list) in a savepoint of its own,
    calling ``on_failure(item, error)`` for those that fail.

    Returns the items the work succeeded for (a recordset for a recordset).
    A concurrent-update error is never caught: Odoo retries the transaction.
    """
    if not items:
        return items
    try:
        with cr.savepoint():
            work(items)
            return items
    except TransactionRollbackError:
        raise
    except Exception:
        _logger.info("%s failed in one batch; again one by one", what)
    records = isinstance(items, BaseModel)
    done = []
    for item in items:
        try:
            with cr.savepoint():
                work(item if records else [item])
            done.append(item)
        except TransactionRollbackError:
            raise
        except Exception as error:  # this item only; reported by on_failure
            on_failure(item, error)
    return items.browse([r.id for r in done]) if records else done
