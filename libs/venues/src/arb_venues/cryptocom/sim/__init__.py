"""The simulator's side of Crypto.com Exchange v1 (imported by the simulator only)."""
