"""securefl: the lab's Flower app (SecAgg+, client-level DP, robust aggregation, signed encrypted models)."""
