"""Dispatchers: one module per MFA method; ``base`` holds the contract."""
