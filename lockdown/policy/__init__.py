"""The upgrade gate: what changed between two locks, and whether policy admits it.

* :mod:`~lockdown.policy.changes` — the change set between two locks (pure);
* :mod:`~lockdown.config.policy` — ``[tool.lockdown.policy]`` into a typed :class:`Policy`;
* :mod:`~lockdown.policy.approvals` — the approvals file: read, match, append;
* :mod:`~lockdown.policy.gate` — every change and every locked package judged (pure);
* :mod:`~lockdown.policy.advisories` — the vulnerability rule's advisories: looked up, judged.

The verdicts as text, Markdown (PR comments) or JSON are :mod:`lockdown.report.gate`.
"""
