"""``python -m lockdown``: the same as the ``lockdown`` command."""

from __future__ import annotations

from lockdown.cli._entry import main_entry

if __name__ == "__main__":
    main_entry()
