"""Customer payments on bookings: policy engine, gateway, holds, ledger, Stripe event handlers."""
