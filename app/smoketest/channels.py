"""The smoke test's own channel, so its broadcasts never reach real users."""

from realtime import api

api.channel("smoke", api.Access.STAFF_ONLY, "make smoke-test; the smoke user must be staff")
