"""cexarb alerter service."""
