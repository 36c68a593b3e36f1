"""Code every venue shares: symbols, the REST client, rate budgets, the WS feed runner."""
