"""What the local stand-ins of outside services share: the CyberTipline simulator (``simulator``) and the DSA
Transparency Database stand-in (``dsa_standin``).

Plumbing only, nothing of either service: serving a WSGI app on a real socket from a thread, closing a
connection without an answer, the book of injected faults, reading a secret from the environment or a file.
Nothing in ``console`` imports it, and it imports nothing from ``console``.
"""
