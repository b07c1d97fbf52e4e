"""Disputes and refund requests between a customer and a business, settled by the platform when
they cannot agree; Stripe chargebacks land in the same records."""
