"""cexarb dashboard service."""
