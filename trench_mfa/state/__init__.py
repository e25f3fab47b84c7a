"""The state layer: every row and counter that security depends on, one module a job.

Tokens and challenges, one-time and backup codes, failed-check back-off and
lockout, send cooldown and quotas, row locks, confirmed identifiers, the
audit log, and the cryptography they use. Each module reads and changes its
own rows atomically (conditional updates, row locks), so the rules hold
across processes and servers. Nothing here sends a message or knows HTTP.
"""
