"""The ``lockdown`` console script: the command line, started as cheaply as possible.

Importing lockdown's modules allocates many objects and triggers the cyclic
garbage collector several times, though none of them is garbage. The
collector is off until :func:`lockdown.cli.main` has parsed the arguments,
and stays off only for ``check`` — a short run from cron that ends with
``os._exit`` — so every other command collects as usual.
"""

import gc

gc.disable()

from lockdown.cli import main_entry  # noqa: E402 - after the collector is off

__all__ = ["main_entry"]
