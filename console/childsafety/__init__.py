"""Child-safety access and exposure care: who may see child-safety material, how much of it, and how.

- access.py: the definition of child-safety material (one home) and who may see it;
- exposure.py: the daily budget of child-safety reveals, breaks, the week's figures;
- viewing.py: how media is shown to each person (blur, grayscale, re-blur, muted and paused video);
- service.py: what admins change (the permission, teams, the marks on queues and policies, defaults);
- views.py: Settings → Child safety, a moderator's own "Viewing and exposure" page, the break screen.

It sits beside policies, media and accounts, below cases and queues: it reads their models only, so that
cases (a reveal counts, a decision is refused) and queues (what a list offers) can ask it.
"""
