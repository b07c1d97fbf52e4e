"""Checkout: bookings with money. Composes the booking domain (:mod:`app.booking`) and the
payments domain (:mod:`app.payments`), so that neither imports the other.

* :mod:`~app.checkout.booking`: quote a service, place a booking and start its payment hold,
  let a customer move a booking under the money policy;
* :mod:`~app.checkout.pay`: the pay step (card form, test card);
* :mod:`~app.checkout.sync`: derive payment and booking state from Stripe's objects;
* :mod:`~app.checkout.expiry`: release holds that ran out;
* :mod:`~app.checkout.policy`: refunds and fees when a booking is cancelled, missed or moved;
* :mod:`~app.checkout.webhooks` and :mod:`~app.checkout.tasks`: Stripe events and jobs.

Functions flush and never commit; the request, job or command around them commits once.
"""
