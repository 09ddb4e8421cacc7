import hashlib
import hmac
import secrets

from odoo import api, fields, models

# The database's secret the partner matching keys are keyed with.
KEY_SECRET_PARAM = "amazon_refund_connector.partner_key_secret"
# Prefix of a keyed hash (HMAC-SHA256) of a buyer's or address's identity.
HASHED_KEY_PREFIX = "amazon-buyer:h1:"
# Prefix of the key of a buyer whose data was purged (with the partner id).
PURGED_KEY_PREFIX = "amazon-purged:"


def _norm(value):
    return " ".join(str(value or "").split()).casefold()


def hashed_key(secret, clear):
    """The matching key stored for the clear identity ``clear``."""
    digest = hmac.new(
        secret.encode("utf-8"), clear.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    return HASHED_KEY_PREFIX + digest


class ResPartner(models.Model):
    _inherit = "res.partner"

    amazon_key = fields.Char(
        string="Amazon matching key",
        index=True,
        copy=False,
        readonly=True,
        help="Identifies an Amazon buyer or one of their delivery addresses, "
        "so that synchronising orders again never creates them twice. A keyed "
        "hash: it tells nothing of the buyer.",
    )

    def _amazon_buyers_removed(self):
        """These partners without Amazon buyers, who must get no Odoo e-mail.

        Amazon forbids contacting buyers outside its messaging service, and
        their addresses are Amazon's relays.
        """
        return self.filtered(lambda p: not p.amazon_key)

    def init(self):
        self._amazon_key_secret()
        # One buyer, one address per company: a second sync (or another
        # worker) finds them instead of creating them again.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS res_partner_amazon_key_company_uniq
                ON res_partner (amazon_key, COALESCE(company_id, 0))
             WHERE amazon_key IS NOT NULL
            """
        )

    @api.model
    def _amazon_key_secret(self):
        """The database's secret of the matching keys, made on first need."""
        params = self.env["ir.config_parameter"].sudo()
        secret = params.get_param(KEY_SECRET_PARAM)
        if not secret:
            secret = secrets.token_hex(32)
            params.set_param(KEY_SECRET_PARAM, secret)
        return secret

    @api.model
    def _amazon_hashed_key(self, clear):
        return hashed_key(self._amazon_key_secret(), clear)

    @api.model
    def _amazon_customer_key(self, order):
        """Key of the buyer of ``order``: a keyed hash of its identity."""
        clear = self._amazon_clear_customer_key(order)
        if clear.startswith("amazon-anonymous:"):
            return clear  # a marketplace, nobody's data
        return self._amazon_hashed_key(clear)

    @api.model
    def _amazon_clear_customer_key(self, order):
        """Identity of the buyer of ``order`` (a parsed Amazon order).

        Matching rule: Amazon hides buyers' real e-mail addresses but gives
        each buyer a stable anonymised one, so the buyer e-mail identifies a
        customer. Without it (Amazon leaves it out of some FBA orders and of
        orders past its data-protection period), the buyer or recipient name
        with the postal code and country does; an order with neither is
        booked on one anonymous customer per marketplace.
        """
        if order.buyer_email:
            return f"amazon-buyer:{order.buyer_email}"
        address = order.address
        name = order.buyer_name or address.get("name")
        if name:
            return "amazon-buyer:{}|{}|{}".format(
                _norm(name),
                _norm(address.get("postalCode")),
                _norm(address.get("countryCode")),
            )
        return f"amazon-anonymous:{order.marketplace_ref}"

    @api.model
    def _amazon_address_key(self, customer_key, order):
        """Key of the delivery address of ``order`` under its customer: a
        keyed hash of the buyer's identity and the address."""
        return self._amazon_hashed_key(
            self._amazon_clear_address_key(
                self._amazon_clear_customer_key(order), order
            )
        )

    @api.model
    def _amazon_clear_address_key(self, customer_key, order):
        address = order.address
        parts = [
            address.get(field)
            for field in (
                "name",
                "companyName",
                "addressLine1",
                "addressLine2",
                "addressLine3",
                "city",
                "districtOrCounty",
                "stateOrRegion",
                "postalCode",
                "countryCode",
                "phone",
            )
        ]
        return f"{customer_key}>" + "|".join(_norm(p) for p in parts)

    @api.model
    def _amazon_partners(self, orders, company, marketplaces):
        """Customer and delivery partners of parsed orders, created as needed.

        Returns ``{order_ref: (customer, delivery)}``; every partner is looked
        up and created in one batch per kind.
        """
        customer_keys = {o.order_ref: self._amazon_customer_key(o) for o in orders}
        address_keys = {
            o.order_ref: self._amazon_address_key(customer_keys[o.order_ref], o)
            for o in orders
            if o.address
        }
        keys = set(customer_keys.values()) | set(address_keys.values())
        found = self.with_context(active_test=False).search(
            [
                ("amazon_key", "in", list(keys)),
                # Buyers stay with the company that sold to them.
                ("company_id", "=", company.id),
            ]
        )
        by_key = {p.amazon_key: p for p in found}
        geo = self._amazon_geo(orders)

        customer_vals = {}
        for order in orders:
            key = customer_keys[order.order_ref]
            if key not in by_key and key not in customer_vals:
                customer_vals[key] = self._amazon_customer_vals(
                    order, key, geo, marketplaces.get(order.marketplace_ref), company.id
                )
        if customer_vals:
            # Amazon users may not create contacts; Amazon's buyers are booked.
            for partner in self.sudo().create(list(customer_vals.values())):
                by_key[partner.amazon_key] = partner

        address_vals = {}
        for order in orders:
            key = address_keys.get(order.order_ref)
            parent = by_key[customer_keys[order.order_ref]]
            if key and parent._amazon_lives_at(order.address, geo):
                # Most buyers have the goods sent to their own address.
                address_keys[order.order_ref] = parent.amazon_key
                continue
            if key and key not in by_key and key not in address_vals:
                address_vals[key] = dict(
                    self._amazon_address_vals(order.address, geo),
                    amazon_key=key,
                    parent_id=parent.id,
                    type="delivery",
                    company_id=company.id,
                )
        if address_vals:
            # create() empties company_name in the values it is given.
            names = {key: vals["company_name"] for key, vals in address_vals.items()}
            created = self.sudo().create(list(address_vals.values()))
            created._amazon_set_company_names(names)
            for partner in created:
                by_key[partner.amazon_key] = partner

        by_key = {key: partner.with_env(self.env) for key, partner in by_key.items()}
        result = {}
        for order in orders:
            customer = by_key[customer_keys[order.order_ref]]
            delivery = by_key.get(address_keys.get(order.order_ref), customer)
            result[order.order_ref] = (customer, delivery)
        return result

    def _amazon_set_company_names(self, names_by_key):
        """Give delivery contacts the business name Amazon gave their address.

        Odoo empties ``company_name`` when it creates a contact with a
        parent; a delivery contact of an individual buyer shows its own.
        """
        by_name = {}
        for partner in self:
            name = names_by_key.get(partner.amazon_key)
            if name:
                by_name.setdefault(name, self.browse())
                by_name[name] |= partner
        for name, partners in by_name.items():
            partners.write({"company_name": name})

    def _amazon_lives_at(self, address, geo):
        """Whether this partner's own address is ``address``.

        A business name on the address must be the partner's too; an address
        without one may still be the address of a buyer's business.
        """
        self.ensure_one()
        vals = self._amazon_address_vals(address, geo)
        if not vals["company_name"]:
            del vals["company_name"]
        return all(
            _norm(vals[name])
            == _norm(self[name].id if name.endswith("_id") else self[name])
            for name in (
                "name",
                "company_name",
                "street",
                "street2",
                "city",
                "zip",
                "state_id",
                "country_id",
            )
            if name in vals
        )

    @api.model
    def _amazon_geo(self, orders):
        """Countries and states of a batch of orders, read at once."""
        codes = {(o.address.get("countryCode") or "").upper() for o in orders}
        countries = self.env["res.country"].search([("code", "in", list(codes - {""}))])
        states = self.env["res.country.state"].search(
            [("country_id", "in", countries.ids)]
        )
        return {
            "countries": {c.code: c for c in countries},
            "states": {
                (s.country_id.code, _norm(label)): s
                for s in states
                for label in (s.code, s.name)
            },
        }

    @api.model
    def _amazon_address_vals(self, address, geo):
        country = geo["countries"].get((address.get("countryCode") or "").upper())
        state = country and geo["states"].get(
            (country.code, _norm(address.get("stateOrRegion")))
        )
        street2 = ", ".join(
            part
            for part in (address.get("addressLine2"), address.get("addressLine3"))
            if part
        )
        city = address.get("city") or address.get("municipality") or ""
        return {
            "name": address.get("name") or address.get("companyName") or city or "-",
            "street": address.get("addressLine1") or False,
            "street2": street2 or False,
            "city": city or False,
            "zip": address.get("postalCode") or False,
            "state_id": state.id if state else False,
            "country_id": country.id if country else False,
            "phone": address.get("phone") or False,
            "company_name": address.get("companyName") or False,
        }

    @api.model
    def _amazon_customer_vals(self, order, key, geo, marketplace, marketplace_company):
        vals = self._amazon_address_vals(order.address, geo) if order.address else {}
        name = order.buyer_name or order.address.get("name")
        if not name:
            name = self.env._(
                "Amazon customer (%s)",
                marketplace.name if marketplace else order.marketplace_ref,
            )
        vals.update(
            name=name,
            email=order.buyer_email or False,
            amazon_key=key,
            customer_rank=1,
            company_id=marketplace_company,
        )
        if order.buyer_company:
            vals["company_name"] = order.buyer_company
        return vals

    @api.model
    def _amazon_text_issue_messages(self, order):
        """Sentences saying which buyer or address fields of ``order`` were
        cleaned, cut or left out before they were stored (never their text)."""
        labels = {
            "buyer.buyerName": self.env._("buyer name"),
            "buyer.buyerEmail": self.env._("buyer e-mail"),
            "buyer.buyerCompanyName": self.env._("buyer company"),
            "deliveryAddress.name": self.env._("recipient name"),
            "deliveryAddress.companyName": self.env._("recipient company"),
            "deliveryAddress.addressLine1": self.env._("address line 1"),
            "deliveryAddress.addressLine2": self.env._("address line 2"),
            "deliveryAddress.addressLine3": self.env._("address line 3"),
            "deliveryAddress.city": self.env._("city"),
            "deliveryAddress.districtOrCounty": self.env._("district or county"),
            "deliveryAddress.stateOrRegion": self.env._("state or region"),
            "deliveryAddress.municipality": self.env._("municipality"),
            "deliveryAddress.postalCode": self.env._("postal code"),
            "deliveryAddress.countryCode": self.env._("country code"),
            "deliveryAddress.phone": self.env._("phone"),
        }
        messages = []
        for issue in order.text_issues:
            label = labels.get(issue.field, issue.field)
            if issue.problem == "too_long":
                messages.append(
                    self.env._(
                        "Amazon sent a %(field)s of %(length)s characters; it was "
                        "cut to %(limit)s. Check it with the buyer's order on "
                        "Amazon.",
                        field=label,
                        length=issue.length,
                        limit=issue.limit,
                    )
                )
            elif issue.problem == "control":
                messages.append(
                    self.env._(
                        "Amazon sent a %(field)s with control or hidden "
                        "characters; they were removed.",
                        field=label,
                    )
                )
            else:
                messages.append(
                    self.env._(
                        "Amazon sent a %(field)s that is not a valid value; it was "
                        "left out.",
                        field=label,
                    )
                )
        return messages
