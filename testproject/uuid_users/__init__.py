"""Test app: Django's user with a UUID primary key."""
