"""The platform console's domain: sanctions (suspend, ban, warn, reinstate) and the directory of
businesses and people. Runs on the platform database role, never with a tenant in scope by accident."""
