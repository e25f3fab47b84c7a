"""A runnable demo project for trench_mfa (SQLite by default)."""
