"""The commands: one module per user command, each the recipe of its command.

A command loads the config, calls the parts below it in order (resolve,
policy, sign, env, drift, report, audit, lock) and returns a result the CLI
hands to :mod:`lockdown.report`. No part imports a command. Nothing is
re-exported here: ``check`` imports only what it runs.
"""
