"""The simulator\x27s side of KuCoin (imported only by the simulator)."""
