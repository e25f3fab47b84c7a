"""Delivering codes: cooldown and quotas, the transaction, then the dispatcher's send.

:func:`trench_mfa.dispatch.delivery.deliver` runs every dispatch; with
``TRENCH_AUTH["DISPATCH"] = "celery"`` the send happens in a Celery task
(:mod:`trench_mfa.dispatch.queue`, task :func:`trench_mfa.tasks.send_code`).
Dispatchers (:mod:`trench_mfa.backends`) only send.
"""
