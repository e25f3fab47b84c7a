"""The floors of the load test: what login step 2 costs at the least.

Two bare DRF views in the trench_mfa site (same Django, settings, middleware,
gunicorn and PostgreSQL database as trench_mfa's step 2), written with the
plain ORM as a careful Django developer would, without any MFA logic:

- ``POST /floor/read/``: read the challenge row and its user, sign the
  simplejwt pair (the read-only floor);
- ``POST /floor/write/``: the same, plus in one transaction a conditional
  update of that row and one audit row (the durable-writes floor).

See ``views.py`` for the exact statements and ``bench/README.md`` for why a
gap between trench_mfa and these floors can remain.
"""
