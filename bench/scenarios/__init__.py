"""The measurements. Each repeats ``plan.runs`` times, interleaving what it compares, so
slow moments of a shared machine fall on both sides of a ratio."""
