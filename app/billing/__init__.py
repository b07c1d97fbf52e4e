"""Plaza's own revenue: plans, Stripe subscriptions, webhook intake and derived billing state."""
