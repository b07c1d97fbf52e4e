"""The one delivery pipeline: the mailer, the SMS provider, the delivery tables and the claim /
lease / send-once routine every channel goes through. Below the domains: a domain may send a
transactional message through it; it imports no domain."""
