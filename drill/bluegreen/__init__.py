"""The blue/green drill: a switch and a rollback under load lose nothing."""
