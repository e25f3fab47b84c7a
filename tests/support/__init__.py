"""Helpers shared by the test folders (not tests themselves).

Modules that define fixtures (``throttling``, ``yubikey``, ``app``,
``flows``) are loaded as pytest plugins by ``tests/conftest.py``, so their
fixtures are available in every folder; the rest are plain helpers.
"""
