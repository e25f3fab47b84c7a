"""The login pipeline: one state machine walks every login through its factors.

django-trench's login (``USERNAME_FIELD`` and password, then the primary
method's code) is the default flow; ``TRENCH_AUTH["FLOWS"]`` replaces it
with the configured flows (:func:`trench_mfa.flows.active_flows`). The views
call the same three entry points whatever is configured:

* :func:`trench_mfa.login.start.start_login`: step 1, the identifier and the
  knowledge secrets; the tokens, or a challenge of the first code factor;
* :func:`trench_mfa.login.factors.answer`: step 2, a code of the current
  factor; the next factor's challenge, or the tokens after the last one;
* :func:`trench_mfa.login.factors.resend`: the current factor's code again.

A passwordless flow answers an identifier nobody can use with a decoy
challenge (:mod:`trench_mfa.login.decoys`).
"""
