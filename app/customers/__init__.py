"""The customers domain: a business's customer records and who they belong to.

:mod:`app.customers.ownership` writes the rule "this customer record belongs to this account"
once (linked to the account, or the account's email once verified); bookings, chat and the
account pages ask it instead of repeating the rule.
"""
