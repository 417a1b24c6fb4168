"""The audit: pinned or installed versions against OSV advisories (vulnerable and malicious).

``osv`` parses OSV documents into frozen dataclasses; ``match`` is the pure
matching of (ecosystem, name, version) against them; ``sources`` reads a
database (a directory or an export zip, indexed once and cached by its
digest) or asks the OSV query API; ``settings`` holds ``[tool.lockdown.audit]``;
``service`` runs an audit of a lock or an environment. Nothing is re-exported
here: ``check`` imports this package on its cron path only with ``--audit``.
"""
