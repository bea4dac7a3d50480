"""The blue/green drill (docs/blue-green.md): `make bluegreen-drill` runs `python -m drill`."""
