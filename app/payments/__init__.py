"""Customer payments on bookings, knowing bookings only by id (never importing :mod:`app.booking`;
:mod:`app.checkout` composes the two).

* ``settings``: the business's money policy and each service's payment rule;
* ``connect``: the Stripe Connect account; ``gateway``: Stripe and its local stand-ins;
* ``holds``: a booking's payment row and its hold; ``ledger``: the append-only money ledger;
* ``fees``: Plaza's application fee and fees the policy could not collect (``uncollected_fee``);
* ``events``: money outbox events; ``policy``: the pure money rules; ``queries``: read models;
* ``models`` and ``errors``.
"""
