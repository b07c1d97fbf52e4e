"""Identity: accounts, passwords, tokens."""
