"""The load test users point at their own stage (docs/load-testing.md): locust users that
sign in, fetch one-time tokens, connect through API Gateway and time ping→pong."""
