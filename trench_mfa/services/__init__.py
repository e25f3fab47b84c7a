"""Service functions: the only place that changes MFA state.

Views call exactly one function from here; each function owns its
transaction and raises :class:`trench_mfa.exceptions.MFAError` subclasses.
"""
