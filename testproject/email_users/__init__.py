"""Test app: a user model whose login field is ``email`` and that has no ``username``."""
